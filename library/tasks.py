from celery import shared_task

from core.exceptions import TransientProviderError
from core.tasks import Task


class AnalysisTask(Task):
    """When retries run out on a transient provider error (or anything else stops the analysis),
    the item is stored as failed with the reason instead of staying pending."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        item_id = args[0] if args else kwargs.get("item_id")
        if item_id is None:
            return
        from library import services

        if isinstance(exc, TransientProviderError):
            message = f"The analysis provider kept failing: {exc}"
        else:
            message = f"The analysis stopped unexpectedly ({type(exc).__name__})."
        services.item_analyse_failed(item_id=item_id, message=message)


@shared_task(
    name="library.analyse_item",
    base=AnalysisTask,
    soft_time_limit=120,
    time_limit=150,
    autoretry_for=(TransientProviderError,),
    retry_backoff=10,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def analyse_item(item_id: int, **kwargs) -> None:
    from library import services

    services.item_analyse(item_id=item_id)


@shared_task(name="library.add_photo", soft_time_limit=30, time_limit=60)
def add_photo(photo_id: int, **kwargs) -> None:
    from library import services

    services.item_add_photo(photo_id=photo_id)


@shared_task(name="library.add_generated_image", soft_time_limit=30, time_limit=60)
def add_generated_image(image_id: int, **kwargs) -> None:
    from library import services

    services.item_add_generated(image_id=image_id)


@shared_task(name="library.reconcile_items", soft_time_limit=60, time_limit=90)
def reconcile_items(**kwargs) -> None:
    from library import services

    services.library_reconcile()
