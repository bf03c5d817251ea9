import io
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.utils import timezone

from training import services
from training.dataset import caption_for
from training.models import TrainingRun
from training.tests.factories import ready_project

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("description", "caption"),
    [
        ("a blue mug on a table", "a photo of MUGQX, a blue mug on a table"),
        ("MUGQX on a  wooden\ntable", "MUGQX on a wooden table"),
        ("", "a photo of MUGQX"),
        ("MUGQXS is not the word", "a photo of MUGQX, MUGQXS is not the word"),
    ],
)
def test_captions_always_carry_the_trigger_word(description, caption):
    assert caption_for(description=description, trigger_word="MUGQX") == caption


def test_the_dataset_is_a_flat_zip_of_images_with_same_named_captions(settings):
    settings.TRAINING_BACKEND = "training.backends.demo.DemoTrainingBackend"
    project = ready_project()
    run = services.training_start(project=project)
    name = services._package_dataset(run)
    with default_storage.open(name, "rb") as stored, zipfile.ZipFile(io.BytesIO(stored.read())) as archive:
        names = sorted(archive.namelist())
        assert all("/" not in entry for entry in names)
        images = [entry for entry in names if entry.endswith(".jpg")]
        assert len(images) == settings.PROJECT_PHOTOS_MIN
        for image in images:
            caption = archive.read(image.replace(".jpg", ".txt")).decode()
            assert project.trigger_word in caption


def test_a_photo_trashed_before_packaging_is_left_out_and_one_trashed_after_changes_nothing(settings):
    from projects import services as project_services

    settings.TRAINING_BACKEND = "training.backends.demo.DemoTrainingBackend"
    project = ready_project()
    run = services.training_start(project=project)
    first, second = project.photos.order_by("id")[:2]
    project_services.photo_trash(photo=first)
    name = services._package_dataset(run)
    with default_storage.open(name, "rb") as stored, zipfile.ZipFile(io.BytesIO(stored.read())) as archive:
        assert len([entry for entry in archive.namelist() if entry.endswith(".jpg")]) == settings.PROJECT_PHOTOS_MIN - 1
    # Once packaged, the zip is the run's own copy: trashing (or purging) a photo leaves it whole.
    project_services.photo_trash(photo=second)
    project_services.photo_delete(photo=second)
    assert default_storage.exists(name)


@pytest.mark.parametrize(
    ("status", "minutes", "words"),
    [
        (TrainingRun.Status.STARTING, 61, "did not start this training within 60 minutes"),
        (TrainingRun.Status.TRAINING, 6 * 60 + 1, "ran longer than 360 minutes"),
    ],
)
def test_a_run_past_its_status_deadline_is_failed_with_what_went_wrong_and_emailed(
    settings, django_capture_on_commit_callbacks, status, minutes, words
):
    settings.TRAINING_BACKEND = "training.backends.demo.DemoTrainingBackend"
    settings.DEMO_TRAINING_SECONDS = 3600
    with django_capture_on_commit_callbacks(execute=True):
        run = services.training_start(project=ready_project())
    TrainingRun.objects.filter(id=run.id).update(
        status=status, state_changed_at=timezone.now() - timedelta(minutes=minutes)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.training_reconcile()
        services.training_reconcile()
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert run.error_kind == "deadline"
    assert words in run.error
    assert len(mail.outbox) == 1
    run.project.refresh_from_db()
    assert services.training_refusal(project=run.project, steps=run.steps) == ""


def test_a_run_within_its_deadline_is_left_running(settings, django_capture_on_commit_callbacks):
    settings.TRAINING_BACKEND = "training.backends.demo.DemoTrainingBackend"
    settings.DEMO_TRAINING_SECONDS = 3600
    with django_capture_on_commit_callbacks(execute=True):
        run = services.training_start(project=ready_project())
    TrainingRun.objects.filter(id=run.id).update(state_changed_at=timezone.now() - timedelta(minutes=59))
    services.training_reconcile()
    run.refresh_from_db()
    assert run.is_active
