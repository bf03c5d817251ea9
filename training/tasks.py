from celery import shared_task
from django.conf import settings

from core.exceptions import TransientProviderError
from core.tasks import Task

PROVIDER_RETRY = {
    "autoretry_for": (TransientProviderError,),
    "retry_backoff": 15,
    "retry_backoff_max": min(600, settings.PROVIDER_RETRY_BACKOFF_MAX),
    "retry_jitter": True,
    "max_retries": 8,
}


class RunTask(Task):
    """When retries run out on a transient provider error, give the run up (or leave it to the
    reconcile task when the provider may already hold its training or LoRA)."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        run_id = args[0] if args else kwargs.get("run_id")
        if isinstance(exc, TransientProviderError) and run_id is not None:
            from training import services

            services.training_give_up(run_id=run_id, message=f"The provider kept failing ({exc}). Retry later.")


# Time limits of the provider steps: settings.PROVIDER_TASK_TIME_LIMITS (they bound the run's lease).
# Each passes its task id as the attempt: a message redelivered after its worker died takes over
# the lease at once.


@shared_task(name="training.submit_training", base=RunTask, bind=True, **PROVIDER_RETRY)
def submit_training(self, run_id: int, **kwargs) -> None:
    from training import services

    services.training_submit(run_id=run_id, attempt=self.request.id)


@shared_task(name="training.sync_training", soft_time_limit=60, time_limit=90, **PROVIDER_RETRY)
def sync_training(run_id: int, **kwargs) -> None:
    from training import services

    services.training_sync(run_id=run_id)


@shared_task(name="training.publish_lora", base=RunTask, bind=True, **PROVIDER_RETRY)
def publish_lora(self, run_id: int, **kwargs) -> None:
    from training import services

    services.training_publish(run_id=run_id, attempt=self.request.id)


@shared_task(name="training.notify_owner", bind=True, **PROVIDER_RETRY)
def notify_owner(self, run_id: int, **kwargs) -> None:
    from training import services

    services.training_notify(run_id=run_id, attempt=self.request.id)


@shared_task(name="training.reconcile_runs", soft_time_limit=60, time_limit=90)
def reconcile_runs(**kwargs) -> None:
    from training import services

    services.training_reconcile()
