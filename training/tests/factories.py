from django.conf import settings

from projects import services as project_services
from projects.tests.factories import ProjectFactory, photo_upload
from training import services
from training.models import TrainingRun


def ready_project(**fields):
    """A product project with enough described, processed photos to train."""

    project = ProjectFactory(**fields)
    files = [photo_upload(seed, size=(1200, 1100)) for seed in range(settings.PROJECT_PHOTOS_MIN)]
    for photo in project_services.photo_upload(project=project, files=files).accepted:
        project_services.photo_process(photo_id=photo.id)
        photo.refresh_from_db()
        project_services.photo_update_description(photo=photo, description="a blue mug on a table")
    project.refresh_from_db()
    return project


def poll_now(run_id: int) -> None:
    """The run's next poll is due now (as the reconcile task would find it), and it happens."""
    from django.utils import timezone

    from training import services
    from training.models import TrainingRun

    TrainingRun.objects.filter(id=run_id).update(next_poll_at=timezone.now())
    services.training_sync(run_id=run_id)


def started_run(run_on_commit) -> TrainingRun:
    """A run of a ready project, submitted to the provider."""
    project = ready_project()
    with run_on_commit():
        run = services.training_start(project=project)
    run.refresh_from_db()
    return run
