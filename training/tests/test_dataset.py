"""The dataset a run trains on: its captions and the zip the submission packages."""

import io
import zipfile

import pytest
from django.core.files.storage import default_storage

from training import services
from training.dataset import caption_for
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
    services.training_submit(run_id=run.id)  # the submit task
    run.refresh_from_db()
    with default_storage.open(run.dataset.name, "rb") as stored, zipfile.ZipFile(io.BytesIO(stored.read())) as archive:
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
    services.training_submit(run_id=run.id)  # the submit task
    run.refresh_from_db()
    name = run.dataset.name
    with default_storage.open(name, "rb") as stored, zipfile.ZipFile(io.BytesIO(stored.read())) as archive:
        assert len([entry for entry in archive.namelist() if entry.endswith(".jpg")]) == settings.PROJECT_PHOTOS_MIN - 1
    # Once packaged, the zip is the run's own copy: trashing (or purging) a photo leaves it whole.
    project_services.photo_trash(photo=second)
    project_services.photo_delete(photo=second)
    assert default_storage.exists(name)
