"""Demo mode end to end: a trained model's prompt becomes stored, marked, simulated images."""

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from generation import services
from generation.models import GeneratedImage, Generation
from generation.tests.factories import trained_model
from projects.models import Project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_a_prompt_becomes_four_stored_simulated_images(run_on_commit):
    run = trained_model()
    with run_on_commit():
        generation = services.generation_create(
            user=run.project.owner, training_run=run, prompt="on a marble counter", num_outputs=4, seed=7
        )
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED, generation.error
    assert generation.prompt == f"a photo of {run.trigger_word}, on a marble counter"
    assert generation.simulated
    images = list(generation.images.order_by("index"))
    assert [image.index for image in images] == [0, 1, 2, 3]
    with default_storage.open(images[0].file.name, "rb") as stored, Image.open(stored) as picture:
        assert picture.format == "WEBP"
        assert picture.size == (images[0].width, images[0].height)
    # Simulated: nothing is charged.
    assert (generation.estimated_cost, generation.cost) == (0, 0)
    assert generation.worker_ms > 0


def test_running_every_step_again_stores_nothing_twice(run_on_commit):
    run = trained_model()
    with run_on_commit():
        generation = services.generation_create(user=run.project.owner, training_run=run, prompt="x", num_outputs=2)
    with run_on_commit():
        services.generation_run(generation_id=generation.id)
        services.generation_sync(generation_id=generation.id)
        services.generation_collect(generation_id=generation.id)
        services.generation_reconcile()
    assert GeneratedImage.objects.filter(generation=generation).count() == 2
    _, files = default_storage.listdir(f"users/{run.project.owner_id}/generations/{generation.id}")
    assert len(files) == 4  # two images, two thumbnails


def test_a_person_model_scores_likeness_against_its_training_faces(run_on_commit):
    run = trained_model(category=Project.Category.PERSON, photos=["grace_hopper.jpg"])
    with run_on_commit():
        generation = services.generation_create(user=run.project.owner, training_run=run, prompt="x", num_outputs=1)
    image = generation.images.get()
    # The simulator pastes a training photo into the picture: the same face, so a high score.
    assert image.face_count == 1
    assert image.likeness >= 80
    assert image.likeness_flag == ""


def test_the_reconcile_finishes_jobs_whose_messages_were_lost(settings, run_on_commit):
    """What happens after a worker restart: nothing waits for a message that is gone."""
    from datetime import timedelta

    from django.utils import timezone

    settings.DEMO_GENERATION_SECONDS = 60
    run = trained_model()
    owner = run.project.owner
    queued = services.generation_create(user=owner, training_run=run, prompt="never picked up", num_outputs=1)
    with run_on_commit():
        polled = services.generation_create(user=owner, training_run=run, prompt="poll lost", num_outputs=1)
    long_ago = timezone.now() - timedelta(minutes=5)
    Generation.objects.filter(id=queued.id).update(created_at=long_ago)
    Generation.objects.filter(id=polled.id).update(next_poll_at=long_ago)
    settings.DEMO_GENERATION_SECONDS = 0
    with run_on_commit():
        assert services.generation_reconcile() == 2
    assert set(Generation.objects.values_list("status", flat=True)) == {Generation.Status.SUCCEEDED}
    assert GeneratedImage.objects.count() == 2


def test_a_job_canceled_while_running_keeps_nothing_running(settings, run_on_commit):
    settings.DEMO_GENERATION_SECONDS = 60
    run = trained_model()
    with run_on_commit():
        generation = services.generation_create(user=run.project.owner, training_run=run, prompt="x")
    services.generation_cancel(generation=generation)
    settings.DEMO_GENERATION_SECONDS = 0
    with run_on_commit():
        services.generation_repoll(generation_id=generation.id)
        services.generation_reconcile()
    generation.refresh_from_db()
    assert generation.status == Generation.Status.CANCELED
    assert not generation.images.exists()


def test_deleting_the_project_deletes_its_models_and_images_files(run_on_commit):
    from projects.services import project_delete

    run = trained_model()
    with run_on_commit():
        generation = services.generation_create(user=run.project.owner, training_run=run, prompt="x", num_outputs=2)
    names = [name for image in generation.images.all() for name in image.file_names()] + [run.lora_file.name]
    assert all(default_storage.exists(name) for name in names)
    with run_on_commit():
        project_delete(project=run.project)
    assert not Generation.objects.exists()
    assert not any(default_storage.exists(name) for name in names)
