from celery import shared_task
from celery.contrib.django.task import DjangoTask

from core.exceptions import TransientProviderError

PROVIDER_RETRY = {
    "autoretry_for": (TransientProviderError,),
    "retry_backoff": 15,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


class RunTask(DjangoTask):
    """When retries run out on a transient provider error, fail the run with a clear message."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        run_id = args[0] if args else kwargs.get("run_id")
        if isinstance(exc, TransientProviderError) and run_id is not None:
            from training import services

            services.training_fail(run_id=run_id, message=f"The provider kept failing ({exc}). Retry later.")


@shared_task(name="training.submit_training", base=RunTask, soft_time_limit=300, time_limit=360, **PROVIDER_RETRY)
def submit_training(run_id: int, **kwargs) -> None:
    from training import services

    services.training_submit(run_id=run_id)


@shared_task(name="training.sync_training", soft_time_limit=60, time_limit=90, **PROVIDER_RETRY)
def sync_training(run_id: int, **kwargs) -> None:
    from training import services

    services.training_sync(run_id=run_id)


@shared_task(name="training.publish_lora", base=RunTask, soft_time_limit=1500, time_limit=1800, **PROVIDER_RETRY)
def publish_lora(run_id: int, **kwargs) -> None:
    from training import services

    services.training_publish(run_id=run_id)


@shared_task(name="training.notify_owner", soft_time_limit=30, time_limit=60, **PROVIDER_RETRY)
def notify_owner(run_id: int, **kwargs) -> None:
    from training import services

    services.training_notify(run_id=run_id)


@shared_task(name="training.reconcile_runs", soft_time_limit=60, time_limit=90)
def reconcile_runs(**kwargs) -> None:
    from training import services

    services.training_reconcile()
