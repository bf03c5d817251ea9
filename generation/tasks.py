import time
from typing import Any

from celery import shared_task
from django.conf import settings

from core.tasks import ProviderStepTask, Retry, classified, provider_task

# Every error of a step ends somewhere: each retry is noted on the job; a permanent error, or
# retries running out, ends it (keeping any images already stored) unless the provider may still
# deliver within the phase's deadline.
RETRY = Retry(max_retries=6, backoff=5, backoff_max=120, capped=True)
ON_JOB: dict[str, Any] = {
    "object_argument": "generation_id",
    "note_error": "generation.services.generation_note_error",
    "give_up": "generation.services.generation_give_up",
}


class TimedTask(ProviderStepTask):
    """Adds the worker time each step takes to its job (`worker_ms`)."""

    def __call__(self, *args, **kwargs):
        from generation import services

        started = time.perf_counter()
        try:
            return super().__call__(*args, **kwargs)
        finally:
            elapsed_ms = round((time.perf_counter() - started) * 1000)
            services.generation_add_worker_time(generation_id=self._object_id(args, kwargs), ms=elapsed_ms)


# Its time limit is in settings.PROVIDER_TASK_TIME_LIMITS (it bounds the job's lease). The task id
# is the attempt: a message redelivered after its worker died takes over the lease at once.
@provider_task(
    "generation.run_generation",
    retry=RETRY,
    time_limit=settings.PROVIDER_TASK_TIME_LIMITS["generation.run_generation"],
    base=TimedTask,
    bind=True,
    **ON_JOB,
)
def run_generation(self, generation_id: int, **kwargs) -> None:
    from generation import services

    with classified(f"generation {generation_id}: submit"):
        services.generation_run(generation_id=generation_id, attempt=self.request.id)


@provider_task("generation.sync_generation", retry=RETRY, soft_time_limit=60, time_limit=90, base=TimedTask, **ON_JOB)
def sync_generation(generation_id: int, **kwargs) -> None:
    from generation import services

    with classified(f"generation {generation_id}: poll"):
        services.generation_sync(generation_id=generation_id)


@provider_task("generation.collect_images", retry=RETRY, soft_time_limit=300, time_limit=360, base=TimedTask, **ON_JOB)
def collect_images(generation_id: int, **kwargs) -> None:
    from generation import services

    with classified(f"generation {generation_id}: store images"):
        services.generation_collect(generation_id=generation_id)


@provider_task(
    "generation.cancel_at_provider",
    retry=RETRY,
    soft_time_limit=60,
    time_limit=90,
    object_argument="generation_id",
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
