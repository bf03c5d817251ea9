from celery import shared_task

from core.exceptions import TransientProviderError


@shared_task(
    name="library.analyse_item",
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
