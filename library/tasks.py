from celery import shared_task

from core.tasks import Retry, provider_task


@provider_task(
    "library.analyse_item",
    retry=Retry(max_retries=5, backoff=10, backoff_max=300),
    soft_time_limit=120,
    time_limit=150,
    object_argument="item_id",
    give_up="library.services.item_analyse_give_up",
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


# Bounded by LIBRARY_REEMBED_ITEMS_PER_RUN; the limits are for a model slower than expected, and
# the re-embed lease (library.services.analysis.REEMBED_LEASE_SECONDS) outlasts them.
@shared_task(name="library.reembed_stale", soft_time_limit=240, time_limit=270)
def reembed_stale(**kwargs) -> None:
    from django.conf import settings

    from library.services import analysis

    analysis.library_reembed_stale(limit=settings.LIBRARY_REEMBED_ITEMS_PER_RUN)
