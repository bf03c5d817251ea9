"""Generation in a shared project: what each role sees and may do (projects.access decides)."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from generation import selectors, services
from generation.models import GeneratedImage, Generation
from generation.tests.factories import trained_model
from projects.models import Membership, Role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


@pytest.fixture
def shared(run_on_commit):
    """A trained model with images its owner made, an editor and a viewer of its project, and a stranger."""
    run = trained_model()
    project = run.project
    with run_on_commit():
        generation = services.generation_create(
            user=project.owner, training_run=run, prompt="on a beach", num_outputs=2, seed=42
        )
    editor, viewer = UserFactory(), UserFactory()
    Membership.objects.create(project=project, user=editor, role=Role.EDITOR)
    Membership.objects.create(project=project, user=viewer, role=Role.VIEWER)
    image = generation.images.order_by("index").first()
    return {"run": run, "owner": project.owner, "editor": editor, "viewer": viewer, "stranger": UserFactory()} | {
        "generation": generation,
        "image": image,
    }


def test_a_viewer_sees_the_projects_jobs_and_images_and_downloads_them(client, shared):
    client.force_login(shared["viewer"])
    image, generation = shared["image"], shared["generation"]
    gallery = client.get("/generation/").content.decode()
    assert gallery.count("data-lightbox ") == 2
    assert "Delete selected" not in gallery
    job = client.get(f"/generation/jobs/{generation.id}/").content.decode()
    assert "Use these settings again" not in job  # a viewer may not generate with the model
    page = client.get(f"/generation/images/{image.id}/").content.decode()
    assert "Add to favourites" not in page
    assert 'action="/generation/images/' not in page.split("Download")[1][:400]
    assert client.get(f"/generation/images/{image.id}/download/").status_code == 200
    assert client.get(f"/generation/images/{image.id}/file/").status_code == 200
    zipped = client.post("/generation/images/selection/", {"images": [image.id], "action": "zip"})
    assert zipped.status_code == 200
    assert zipped["Content-Type"] == "application/zip"


def test_a_viewer_cannot_generate_delete_favourite_or_cancel(client, shared):
    client.force_login(shared["viewer"])
    image, run = shared["image"], shared["run"]
    assert str(run.id) not in [str(choice.id) for choice in selectors.model_choices_for_user(user=shared["viewer"])]
    forced = client.post("/generation/new/", {"model": run.id, "prompt": "a mug", "num_outputs": 1})
    assert forced.status_code == 403
    assert client.post(f"/generation/images/{image.id}/delete/").status_code == 403
    assert client.post(f"/generation/images/{image.id}/favourite/", {"favourite": "1"}).status_code == 403
    selection = client.post("/generation/images/selection/", {"images": [image.id], "action": "delete"})
    assert selection.status_code == 403
    running = Generation.objects.create(
        user=shared["editor"], training_run=run, project=run.project, prompt="x", num_outputs=1, seed=1,
        guidance=3, steps=28, lora_scale=1, backend="demo", estimated_cost=0, status=Generation.Status.RUNNING,
    )  # fmt: skip
    assert client.post(f"/generation/jobs/{running.id}/cancel/").status_code == 403
    assert not GeneratedImage.objects.filter(trashed_at__isnull=False).exists()
    assert not GeneratedImage.objects.filter(favourite=True).exists()
    assert Generation.objects.count() == 2


def test_an_editor_generates_with_the_owners_model_charged_to_the_editor(client, shared, run_on_commit):
    editor, owner, run = shared["editor"], shared["owner"], shared["run"]
    owner_before = selectors.generation_usage(user=owner).images_today
    client.force_login(editor)
    form = client.get("/generation/new/").content.decode()
    assert f'value="{run.id}"' in form
    assert "Charged to you" in form
    with run_on_commit():
        response = client.post(
            "/generation/new/",
            {
                "model": run.id,
                "prompt": "on a marble counter",
                "num_outputs": 3,
                "aspect_ratio": "1:1",
                "guidance": 3,
                "steps": 28,
                "lora_scale": 1,
                "output_format": "webp",
            },
        )
    assert response.status_code == 302
    job = Generation.objects.get(user=editor)
    assert job.project_id == run.project_id
    assert selectors.generation_usage(user=editor).images_today == 3
    assert selectors.generation_usage(user=owner).images_today == owner_before
    # The owner sees the editor's job and may cancel it; the editor may delete the owner's images.
    client.force_login(owner)
    assert client.get(f"/generation/jobs/{job.id}/").status_code == 200
    client.force_login(editor)
    assert client.post(f"/generation/images/{shared['image'].id}/delete/").status_code == 302
    assert GeneratedImage.objects.get(id=shared["image"].id).trashed_at is not None


def test_a_non_member_gets_404_and_the_api_answers_a_models_id_as_missing(client, shared):
    client.force_login(shared["stranger"])
    image, generation = shared["image"], shared["generation"]
    for url in (
        f"/generation/jobs/{generation.id}/",
        f"/generation/images/{image.id}/",
        f"/generation/images/{image.id}/download/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/generation/images/{image.id}/delete/").status_code == 404
    assert "data-lightbox " not in client.get("/generation/").content.decode()
    api = APIClient()
    api.force_authenticate(shared["stranger"])
    assert api.post("/api/v1/generations/", {"model": shared["run"].id, "prompt": "a mug"}).status_code == 400
    assert api.get(f"/api/v1/generations/{generation.id}/").status_code == 404


def test_the_api_refuses_a_viewers_generation_and_delete_with_403(shared):
    api = APIClient()
    api.force_authenticate(shared["viewer"])
    image = shared["image"]
    assert api.get(f"/api/v1/images/{image.id}/").status_code == 200
    assert len(api.get("/api/v1/images/").json()["results"]) == 2
    assert api.post("/api/v1/generations/", {"model": shared["run"].id, "prompt": "a mug"}).status_code == 403
    assert api.delete(f"/api/v1/images/{image.id}/").status_code == 403
    assert api.patch(f"/api/v1/images/{image.id}/", {"favourite": True}).status_code == 403
    api.force_authenticate(shared["editor"])
    created = api.post("/api/v1/generations/", {"model": shared["run"].id, "prompt": "a mug", "num_outputs": 1})
    assert created.status_code == 201


def test_a_removed_member_no_longer_sees_the_projects_images(client, shared):
    Membership.objects.filter(user=shared["viewer"]).delete()
    client.force_login(shared["viewer"])
    assert client.get(f"/generation/images/{shared['image'].id}/").status_code == 404


def test_a_viewer_cannot_restore_or_delete_a_trashed_image(client, shared):
    image = shared["image"]
    services.image_trash(image=image, actor=shared["owner"])
    client.force_login(shared["viewer"])
    assert client.post(f"/library/trash/images/{image.id}/restore/").status_code == 404
    assert client.post(f"/library/trash/images/{image.id}/delete/").status_code == 404
    api = APIClient()
    api.force_authenticate(shared["viewer"])
    assert api.post(f"/api/v1/library/trash/images/{image.id}/restore/").status_code == 404
    assert api.delete(f"/api/v1/library/trash/images/{image.id}/").status_code == 404
    image.refresh_from_db()
    assert image.trashed_at is not None
    # The editor may: the trash of a project is its editors'.
    client.force_login(shared["editor"])
    assert client.post(f"/library/trash/images/{image.id}/restore/").status_code == 302
    image.refresh_from_db()
    assert image.trashed_at is None


def test_a_viewer_cannot_open_a_trashed_images_files(client, shared):
    image = shared["image"]
    client.force_login(shared["viewer"])
    assert client.get(f"/generation/images/{image.id}/file/").status_code == 200
    services.image_trash(image=image, actor=shared["owner"])
    assert client.get(f"/generation/images/{image.id}/file/").status_code == 404
    assert client.get(f"/generation/images/{image.id}/thumbnail/").status_code == 404
    client.force_login(shared["editor"])
    assert client.get(f"/generation/images/{image.id}/file/").status_code == 200
