"""Person models: each image is scored against the training faces; the gallery sorts and flags."""

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from generation import services
from generation.models import GeneratedImage, Generation
from generation.tests.factories import trained_model
from projects.models import Project
from projects.tests.factories import PHOTOS

pytestmark = pytest.mark.django_db


def _image_from(generation: Generation, index: int, photo: str) -> GeneratedImage:
    name = default_storage.save(f"gen/{generation.id}/{index}.jpg", ContentFile((PHOTOS / photo).read_bytes()))
    return GeneratedImage.objects.create(
        generation=generation,
        index=index,
        file=name,
        thumbnail=name,
        width=512,
        height=512,
        seed=1,
        format="jpg",
        bytes=1,
    )


def _finished_job(run, *, num_outputs: int) -> Generation:
    return Generation.objects.create(
        user=run.project.owner,
        training_run=run,
        project=run.project,
        prompt="x",
        num_outputs=num_outputs,
        seed=1,
        guidance=3,
        steps=28,
        lora_scale=1,
        backend="demo",
        estimated_cost=Decimal("0.1"),
        status=Generation.Status.SUCCEEDED,
    )


def test_images_are_scored_and_flagged_and_the_gallery_sorts_by_likeness(client):
    run = trained_model(category=Project.Category.PERSON, photos=["grace_hopper.jpg"])
    generation = _finished_job(run, num_outputs=3)
    other_person = _image_from(generation, 0, "astronaut.jpg")
    no_face = _image_from(generation, 1, "coffee.jpg")
    same_person = _image_from(generation, 2, "grace_hopper.jpg")

    services.generation_score_likeness(generation_id=generation.id)

    for image in (other_person, no_face, same_person):
        image.refresh_from_db()
    assert same_person.likeness == 100
    assert same_person.likeness_flag == ""
    assert other_person.likeness < 50
    assert other_person.likeness_flag == "Different face"
    assert no_face.face_count == 0
    assert no_face.likeness is None
    assert no_face.likeness_flag == "No face"

    client.force_login(run.project.owner)
    page = client.get("/generation/?sort=likeness").content.decode()
    order = [page.index(f'name="images" value="{image.id}"') for image in (same_person, other_person, no_face)]
    assert order == sorted(order)
    assert "Different face" in page
    assert "No face" in page


def test_product_models_are_not_scored():
    run = trained_model()
    generation = _finished_job(run, num_outputs=1)
    image = _image_from(generation, 0, "grace_hopper.jpg")
    services.generation_score_likeness(generation_id=generation.id)
    image.refresh_from_db()
    assert image.face_count is None


def test_the_score_scale():
    assert services.likeness_from_distance(0.2) == 100
    assert services.likeness_from_distance(0.6) == 50
    assert services.likeness_from_distance(1.2) == 0
