from celery import shared_task

from core.tasks import Retry, retrying_task


@shared_task(name="projects.process_photo", soft_time_limit=120, time_limit=180)
def process_photo(photo_id: int, **kwargs) -> None:
    from projects import services

    services.photo_process(photo_id=photo_id)


@shared_task(name="projects.analyse_faces", soft_time_limit=60, time_limit=90)
def analyse_faces(photo_id: int, **kwargs) -> None:
    from projects import services

    services.photo_analyse_faces(photo_id=photo_id)


@shared_task(name="projects.reconcile_photos", soft_time_limit=60, time_limit=90)
def reconcile_photos(**kwargs) -> None:
    from projects import services

    services.photo_reconcile()


@shared_task(name="projects.purge_trashed_photos", soft_time_limit=600, time_limit=660)
def purge_trashed_photos(**kwargs) -> None:
    from projects import services

    services.photos_purge_trashed()


# The invitation email (projects.services.members): send number N of an invitation, once.
@retrying_task("projects.send_invitation_email", retry=Retry(max_retries=6, backoff=30, backoff_max=600), time_limit=60)
def send_invitation_email(invitation_id: int, send_number: int, **kwargs) -> None:
    from projects.services import members

    members.invitation_email_send(invitation_id=invitation_id, send_number=send_number)


@shared_task(name="projects.purge_live_events", soft_time_limit=300, time_limit=360)
def purge_live_events(**kwargs) -> None:
    from projects import events

    events.events_purge_old()
