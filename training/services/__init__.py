"""Training services: what changes a training run. Each sub-domain has its module; new code
imports from it. Reads (refusal, estimate, parameters, charge note) are in training.selectors.

- runs: start and cancel a run
- submission: package the dataset and start the provider's training, once
- updates: apply what the provider reports (webhooks, polling)
- publishing: fetch, store and copy the LoRA to the Hub
- notification: the owner's email
- deadlines: a step out of time, attempts or retries
- reconcile: re-drive what should have moved on
- states: the run's state machine; run_end is where "done" is decided
"""

from training.providers import backend_for
from training.services.deadlines import training_expire, training_give_up, training_note_error
from training.services.notification import (
    training_email_failed,
    training_email_give_up,
    training_notify,
    training_resend_email,
)
from training.services.publishing import training_publish
from training.services.reconcile import training_reconcile
from training.services.runs import TrainingNotAllowed, training_cancel, training_cancel_at_provider, training_start
from training.services.states import state_deadline, training_fail
from training.services.submission import training_package_dataset, training_submit
from training.services.updates import training_apply_update, training_repoll, training_sync

__all__ = [
    "TrainingNotAllowed",
    "training_package_dataset",
    "backend_for",
    "state_deadline",
    "training_apply_update",
    "training_cancel",
    "training_cancel_at_provider",
    "training_email_failed",
    "training_email_give_up",
    "training_expire",
    "training_fail",
    "training_give_up",
    "training_note_error",
    "training_notify",
    "training_publish",
    "training_reconcile",
    "training_repoll",
    "training_resend_email",
    "training_start",
    "training_submit",
    "training_sync",
]
