import time

from celery import shared_task
from django.conf import settings
from django.db.models import F

from core.tasks import ProviderStepTask, classified

PROVIDER_RETRY = {
    "retry_backoff": 5,
    "retry_backoff_max": min(120, settings.PROVIDER_RETRY_BACKOFF_MAX),
    "retry_jitter": True,
    "max_retries": 6,
}


class GenerationTask(ProviderStepTask):
    """Records worker time per job. Every error of a step ends somewhere: each retry is noted on
    the job; a permanent error, or retries running out, ends it (keeping any images already
    stored) unless the provider may still deliver within the phase's deadline."""

    object_argument = "generation_id"

    def __call__(self, *args, **kwargs):
        from generation.models import Generation

        started = time.perf_counter()
        try:
            return super().__call__(*args, **kwargs)
        finally:
            generation_id = self._object_id(args, kwargs)
            elapsed_ms = round((time.perf_counter() - started) * 1000)
            Generation.objects.filter(id=generation_id).update(worker_ms=F("worker_ms") + elapsed_ms)

    def note_error(self, object_id, exc) -> None:
        from generation import services

        services.generation_note_error(generation_id=object_id, error=exc)

    def give_up(self, object_id, exc) -> None:
        from generation import services

        services.generation_give_up(generation_id=object_id, error=exc)


# Its time limit is in settings.PROVIDER_TASK_TIME_LIMITS (it bounds the job's lease). The task id
# is the attempt: a message redelivered after its worker died takes over the lease at once.
@shared_task(name="generation.run_generation", base=GenerationTask, bind=True, **PROVIDER_RETRY)
def run_generation(self, generation_id: int, **kwargs) -> None:
    from generation import services

    with classified(f"generation {generation_id}: submit"):
        services.generation_run(generation_id=generation_id, attempt=self.request.id)


@shared_task(
    name="generation.sync_generation", base=GenerationTask, soft_time_limit=60, time_limit=90, **PROVIDER_RETRY
)
def sync_generation(generation_id: int, **kwargs) -> None:
    from generation import services

    with classified(f"generation {generation_id}: poll"):
        services.generation_sync(generation_id=generation_id)


@shared_task(
    name="generation.collect_images", base=GenerationTask, soft_time_limit=300, time_limit=360, **PROVIDER_RETRY
)
def collect_images(generation_id: int, **kwargs) -> None:
    from generation import services

    with classified(f"generation {generation_id}: store images"):
        services.generation_collect(generation_id=generation_id)


@shared_task(
    name="generation.cancel_at_provider", base=ProviderStepTask, soft_time_limit=60, time_limit=90, **PROVIDER_RETRY
)
def cancel_at_provider(generation_id: int, **kwargs) -> None:
    from generation import services

    with classified(f"generation {generation_id}: cancel at the provider"):
        services.generation_cancel_at_provider(generation_id=generation_id)


@shared_task(name="generation.score_likeness", soft_time_limit=120, time_limit=150)
def score_likeness(generation_id: int, **kwargs) -> None:
    from generation import services

    services.generation_score_likeness(generation_id=generation_id)


@shared_task(name="generation.reconcile_jobs", soft_time_limit=60, time_limit=90)
def reconcile_jobs(**kwargs) -> None:
    from generation import services

    services.generation_reconcile()


@shared_task(name="generation.purge_trashed_images", soft_time_limit=600, time_limit=660)
def purge_trashed_images(**kwargs) -> None:
    from generation import services

    services.images_purge_trashed()
