from celery import shared_task
from django.conf import settings

from core.tasks import ProviderStepTask, classified

PROVIDER_RETRY = {
    "retry_backoff": 15,
    "retry_backoff_max": min(600, settings.PROVIDER_RETRY_BACKOFF_MAX),
    "retry_jitter": True,
    "max_retries": 8,
}


class RunTask(ProviderStepTask):
    """Every error of a step on a run ends somewhere: each retry is noted on the run; a permanent
    error ends the run at once; when retries run out the run is given up (or left to the
    reconcile task, within its status' deadline, when the provider may already hold its training
    or LoRA)."""

    object_argument = "run_id"

    def note_error(self, object_id, exc) -> None:
        from training import services

        services.training_note_error(run_id=object_id, error=exc)

    def give_up(self, object_id, exc) -> None:
        from training import services

        services.training_give_up(run_id=object_id, error=exc)


# Time limits of the provider steps: settings.PROVIDER_TASK_TIME_LIMITS (they bound the run's lease).
# Each passes its task id as the attempt: a message redelivered after its worker died takes over
# the lease at once.


@shared_task(name="training.submit_training", base=RunTask, bind=True, **PROVIDER_RETRY)
def submit_training(self, run_id: int, **kwargs) -> None:
    from training import services

    with classified(f"training {run_id}: submit"):
        services.training_submit(run_id=run_id, attempt=self.request.id)


@shared_task(name="training.sync_training", base=RunTask, soft_time_limit=60, time_limit=90, **PROVIDER_RETRY)
def sync_training(run_id: int, **kwargs) -> None:
    from training import services

    with classified(f"training {run_id}: poll"):
        services.training_sync(run_id=run_id)


@shared_task(name="training.publish_lora", base=RunTask, bind=True, **PROVIDER_RETRY)
def publish_lora(self, run_id: int, **kwargs) -> None:
    from training import services

    with classified(f"training {run_id}: publish"):
        services.training_publish(run_id=run_id, attempt=self.request.id)


class EmailTask(ProviderStepTask):
    """The result email's errors end in a record on the run, never in a silent stop."""

    object_argument = "run_id"

    def give_up(self, object_id, exc) -> None:
        from training import services

        if getattr(exc, "permanent", False):
            services.training_email_failed(run_id=object_id, reason=str(exc))
        # Transient: the reconcile task sends again, within the email's attempt budget.


@shared_task(name="training.notify_owner", base=EmailTask, bind=True, **PROVIDER_RETRY)
def notify_owner(self, run_id: int, **kwargs) -> None:
    from training import services

    with classified(f"training {run_id}: email"):
        services.training_notify(run_id=run_id, attempt=self.request.id)


@shared_task(
    name="training.cancel_at_provider", base=ProviderStepTask, soft_time_limit=60, time_limit=90, **PROVIDER_RETRY
)
def cancel_at_provider(run_id: int, **kwargs) -> None:
    from training import services

    with classified(f"training {run_id}: cancel at the provider"):
        services.training_cancel_at_provider(run_id=run_id)


@shared_task(name="training.reconcile_runs", soft_time_limit=60, time_limit=90)
def reconcile_runs(**kwargs) -> None:
    from training import services

    services.training_reconcile()
