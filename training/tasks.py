from typing import Any

from celery import shared_task
from django.conf import settings

from core.tasks import Retry, classified, provider_task

# Every step on a run ends somewhere: each retry is noted on the run; a permanent error ends the
# run at once; when retries run out the run is given up (or left to the reconcile task, within its
# status' deadline, when the provider may already hold its training or LoRA).
RETRY = Retry(max_retries=8, backoff=15, backoff_max=600, capped=True)
ON_RUN: dict[str, Any] = {
    "object_argument": "run_id",
    "note_error": "training.services.training_note_error",
    "give_up": "training.services.training_give_up",
}
LEASE_LIMITS = settings.PROVIDER_TASK_TIME_LIMITS


# The steps that start paid or visible work hold a lease on the run for their time limit
# (settings.PROVIDER_TASK_TIME_LIMITS). Each passes its task id as the attempt: a message
# redelivered after its worker died takes over the lease at once.
@provider_task(
    "training.submit_training", retry=RETRY, time_limit=LEASE_LIMITS["training.submit_training"], bind=True, **ON_RUN
)
def submit_training(self, run_id: int, **kwargs) -> None:
    from training import services

    with classified(f"training {run_id}: submit"):
        services.training_submit(run_id=run_id, attempt=self.request.id)


@provider_task("training.sync_training", retry=RETRY, soft_time_limit=60, time_limit=90, **ON_RUN)
def sync_training(run_id: int, **kwargs) -> None:
    from training import services

    with classified(f"training {run_id}: poll"):
        services.training_sync(run_id=run_id)


@provider_task(
    "training.publish_lora", retry=RETRY, time_limit=LEASE_LIMITS["training.publish_lora"], bind=True, **ON_RUN
)
def publish_lora(self, run_id: int, **kwargs) -> None:
    from training import services

    with classified(f"training {run_id}: publish"):
        services.training_publish(run_id=run_id, attempt=self.request.id)


@provider_task(
    "training.notify_owner",
    retry=RETRY,
    time_limit=LEASE_LIMITS["training.notify_owner"],
    bind=True,
    object_argument="run_id",
    give_up="training.services.training_email_give_up",
)
def notify_owner(self, run_id: int, **kwargs) -> None:
    from training import services

    with classified(f"training {run_id}: email"):
        services.training_notify(run_id=run_id, attempt=self.request.id)


@provider_task("training.cancel_at_provider", retry=RETRY, soft_time_limit=60, time_limit=90, object_argument="run_id")
def cancel_at_provider(run_id: int, **kwargs) -> None:
    from training import services

    with classified(f"training {run_id}: cancel at the provider"):
        services.training_cancel_at_provider(run_id=run_id)


@shared_task(name="training.reconcile_runs", soft_time_limit=60, time_limit=90)
def reconcile_runs(**kwargs) -> None:
    from training import services

    services.training_reconcile()
