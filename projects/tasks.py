from celery import shared_task


@shared_task(name="projects.process_photo", soft_time_limit=120, time_limit=180)
def process_photo(photo_id: int, **kwargs) -> None:
    from projects import services

    services.photo_process(photo_id=photo_id)


@shared_task(name="projects.analyse_faces", soft_time_limit=60, time_limit=90)
def analyse_faces(photo_id: int, **kwargs) -> None:
    from projects import services

    services.photo_analyse_faces(photo_id=photo_id)


@shared_task(
    name="projects.delete_stored_files",
    autoretry_for=(OSError,),
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def delete_stored_files(names: list[str], **kwargs) -> None:
    from django.core.files.storage import default_storage

    # Deleting a missing object is a no-op, so a retry after a partial run is safe.
    for name in names:
        default_storage.delete(name)


@shared_task(name="projects.reconcile_photos", soft_time_limit=60, time_limit=90)
def reconcile_photos(**kwargs) -> None:
    from projects import services

    services.photo_reconcile()


@shared_task(name="projects.sweep_storage", soft_time_limit=1800, time_limit=1900)
def sweep_storage(**kwargs) -> None:
    from datetime import timedelta

    from django.conf import settings

    from projects import services

    services.storage_sweep(older_than=timedelta(hours=settings.STORAGE_SWEEP_AFTER_HOURS))


@shared_task(name="projects.purge_trashed_photos", soft_time_limit=600, time_limit=660)
def purge_trashed_photos(**kwargs) -> None:
    from projects import services

    services.photos_purge_trashed()
