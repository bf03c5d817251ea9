"""The API: create, list, get with image URLs, cancel, favourite, delete."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from generation import services
from generation.models import GeneratedImage, Generation
from generation.tests.factories import trained_model

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


@pytest.fixture
def api_for():
    def make(user):
        api = APIClient()
        api.force_authenticate(user)
        return api

    return make


def test_create_then_get_with_image_urls(api_for, run_on_commit):
    run = trained_model()
    api = api_for(run.project.owner)
    with run_on_commit():
        response = api.post(
            "/api/v1/generations/",
            {"model": run.id, "prompt": "on a beach", "num_outputs": 2, "seed": 5, "aspect_ratio": "16:9"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued"
    assert body["simulated"] is True
    assert body["prompt"] == f"a photo of {run.trigger_word}, on a beach"
    job = api.get(f"/api/v1/generations/{body['id']}/").json()
    assert job["status"] == "succeeded"
    assert len(job["images"]) == 2
    image = job["images"][0]
    assert image["url"].startswith("http://testserver/generation/images/")
    assert image["seed"] == 5
    assert api.get(image["url"]).status_code == 200
    assert api.get("/api/v1/generations/", {"model": run.id}).json()["count"] == 1
    assert api.get("/api/v1/images/").json()["count"] == 2


def test_the_base_model_needs_no_trained_model(api_for, run_on_commit):
    api = api_for(UserFactory())
    with run_on_commit():
        response = api.post("/api/v1/generations/", {"prompt": "a lighthouse at dusk", "num_outputs": 1}, format="json")
    assert response.status_code == 201
    assert response.json()["model"] is None
    assert response.json()["prompt"] == "a lighthouse at dusk"


def test_bad_input_and_limits_get_clear_errors(api_for, settings):
    settings.GENERATION_CONCURRENT_JOBS = 0
    run = trained_model()
    api = api_for(run.project.owner)
    bad = api.post("/api/v1/generations/", {"model": run.id + 99, "prompt": "x", "num_outputs": 9}, format="json")
    assert bad.status_code == 400
    details = bad.json()["error"]["details"]
    assert "model" in details
    assert "num_outputs" in details
    limited = api.post("/api/v1/generations/", {"model": run.id, "prompt": "x"}, format="json")
    assert limited.status_code == 400
    assert "your limit is 0" in limited.json()["error"]["details"]["non_field_errors"][0]
    assert not Generation.objects.exists()


def test_cancel_favourite_and_delete(api_for, settings, run_on_commit):
    run = trained_model()
    api = api_for(run.project.owner)
    with run_on_commit():
        done = services.generation_create(user=run.project.owner, training_run=run, prompt="x", num_outputs=1)
    settings.DEMO_GENERATION_SECONDS = 60
    with run_on_commit():
        running = services.generation_create(user=run.project.owner, training_run=run, prompt="y", num_outputs=1)
    assert api.post(f"/api/v1/generations/{running.id}/cancel/").json()["status"] == "canceled"
    image = done.images.get()
    assert api.patch(f"/api/v1/images/{image.id}/", {"favourite": True}, format="json").json()["favourite"] is True
    assert api.get("/api/v1/images/", {"favourite": "true"}).json()["count"] == 1
    # Only favourite is writable.
    api.patch(f"/api/v1/images/{image.id}/", {"seed": 1, "width": 1}, format="json")
    image.refresh_from_db()
    assert image.seed == done.seed
    assert image.width > 1
    assert api.delete(f"/api/v1/images/{image.id}/").status_code == 204
    assert GeneratedImage.objects.get().trashed_at is not None  # in the trash, restorable
    assert api.get(f"/api/v1/images/{image.id}/").status_code == 404


def test_another_users_jobs_and_images_are_not_found(api_for, run_on_commit):
    run = trained_model()
    with run_on_commit():
        job = services.generation_create(user=run.project.owner, training_run=run, prompt="x", num_outputs=1)
    api = api_for(UserFactory())
    image = job.images.get()
    assert api.get(f"/api/v1/generations/{job.id}/").status_code == 404
    assert api.post(f"/api/v1/generations/{job.id}/cancel/").status_code == 404
    assert api.patch(f"/api/v1/images/{image.id}/", {"favourite": True}, format="json").status_code == 404
    assert api.delete(f"/api/v1/images/{image.id}/").status_code == 404
    assert api.post("/api/v1/generations/", {"model": run.id, "prompt": "x"}, format="json").status_code == 400


def test_the_job_list_keeps_a_constant_query_count(api_for, run_on_commit, django_assert_num_queries):
    run = trained_model()
    api = api_for(run.project.owner)
    with run_on_commit():
        services.generation_create(user=run.project.owner, training_run=run, prompt="x", num_outputs=2)
    with django_assert_num_queries(3):
        api.get("/api/v1/generations/")
    with run_on_commit():
        services.generation_create(user=run.project.owner, training_run=None, prompt="y", num_outputs=3)
    with django_assert_num_queries(3):
        assert api.get("/api/v1/generations/").json()["count"] == 2
