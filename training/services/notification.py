"""The email that tells a run's owner how it ended."""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy

from accounts.emails import send_templated_email
from core import failures
from core.exceptions import PermanentProviderError
from core.leases import FREE, lease_claim, lease_seconds, new_attempt, released_on_error
from training.models import TrainingRun
from training.selectors import training_charge_note
from training.services.states import out_of_attempts, to_announce
from training.tasks import notify_owner

logger = logging.getLogger(__name__)


def training_notify(*, run_id: int, attempt: str | None = None) -> None:
    """Email the owner how the run ended, once (every end but the user's own cancel).

    The attempt holds the run's lease while it sends and records the mail as sent right after
    SendGrid accepted it. A failed send frees the lease for the retry; an attempt killed while
    sending leaves it to run out, and the reconcile task sends again. The step has a budget of
    attempts; a mail SendGrid refuses for good is recorded as such, not retried. (SendGrid has
    no idempotency key: only an attempt killed between SendGrid's answer and that record can
    mail twice.)
    """
    attempt = attempt or new_attempt()
    unsent = TrainingRun.objects.filter(to_announce(), id=run_id, notified_at__isnull=True, email_error="")
    if not lease_claim(unsent, holder=attempt, seconds=lease_seconds("training.notify_owner")):
        return
    with released_on_error(TrainingRun.objects.filter(id=run_id), holder=attempt):
        run = TrainingRun.objects.select_related("project__owner").get(id=run_id)
        if out_of_attempts(run):
            training_email_failed(run_id=run_id, reason=f"{settings.TRAINING_STEP_ATTEMPTS} attempts failed")
            return
        succeeded = run.status == TrainingRun.Status.SUCCEEDED
        try:
            send_templated_email(
                to=run.project.owner.email,
                template="training_succeeded" if succeeded else "training_failed",
                context={
                    "user": run.project.owner,
                    "run": run,
                    "project": run.project,
                    "link": settings.SITE_URL + reverse("training:run", kwargs={"run_id": run.id}),
                    "simulated": run.simulated,
                    # Lazy: written when the email is rendered, in the owner's language, not the worker's.
                    "charge_note": lazy(training_charge_note, str)(run=run),
                },
            )
        except PermanentProviderError as error:
            training_email_failed(run_id=run_id, reason=str(error))
            return
        TrainingRun.objects.filter(id=run_id).update(notified_at=timezone.now(), **FREE)


def training_email_failed(*, run_id: int, reason: str) -> None:
    logger.error("training %s: the result email could not be sent: %s", run_id, reason)
    TrainingRun.objects.filter(id=run_id, notified_at__isnull=True).update(email_error=reason[:300], **FREE)


def training_resend_email(*, run_ids: Iterable[int]) -> int:
    """Email the owners of these runs again how they ended (operators): the ended ones but those
    the user canceled. How many emails are queued."""
    ended = (
        TrainingRun.objects.filter(id__in=list(run_ids))
        .filter(status__in=TrainingRun.TERMINAL)
        .exclude(error_kind=failures.Kind.USER_CANCELED)
    )
    ended.update(notified_at=None, email_error="")
    run_ids = list(ended.values_list("id", flat=True))
    for run_id in run_ids:
        notify_owner.delay_on_commit(run_id)
    return len(run_ids)


def training_email_give_up(*, run_id: int, error: Exception) -> None:
    """The result email's task gave up: a permanent error ends in a record on the run, never in a
    silent stop; after transient ones the reconcile task sends again, within the email's attempt
    budget."""
    if getattr(error, "permanent", False):
        training_email_failed(run_id=run_id, reason=str(error))
