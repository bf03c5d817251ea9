import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.tests.factories import UserFactory
from projects.models import Photo, Project
from projects.tests.factories import ProjectFactory, photo_upload, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(owner):
    client = APIClient()
    _, secret = account_services.api_token_create(user=owner, name="test")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_create_list_retrieve_update_and_delete_a_project(api, owner, run_on_commit):
    created = api.post("/api/v1/projects/", {"name": "Mug", "category": "product"}, format="json")
    assert created.status_code == 201
    project_id = created.json()["id"]
    assert created.json()["readiness"]["ready"] is False
    assert api.get("/api/v1/projects/").json()["count"] == 1
    updated = api.patch(f"/api/v1/projects/{project_id}/", {"trigger_word": "MUGQX"}, format="json")
    assert updated.json()["trigger_word"] == "MUGQX"
    with run_on_commit():
        assert api.delete(f"/api/v1/projects/{project_id}/").status_code == 204
    assert not Project.objects.exists()


def test_invalid_project_input_gets_field_errors(api):
    response = api.post(
        "/api/v1/projects/", {"name": "", "category": "cat", "trigger_word": "two words"}, format="json"
    )
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert set(details) == {"name", "category", "trigger_word"}


def test_upload_describe_and_read_photos(api, owner, run_on_commit):
    project = ProjectFactory(owner=owner)
    with run_on_commit():
        response = api.post(
            f"/api/v1/projects/{project.id}/photos/",
            {"files": [photo_upload(1), upload(b"not an image", "x.jpg")]},
            format="multipart",
        )
    assert response.status_code == 201
    body = response.json()
    assert [item["original_filename"] for item in body["accepted"]] == ["photo-1.jpg"]
    assert body["rejected"][0]["name"] == "x.jpg"
    photo_id = body["accepted"][0]["id"]

    photo = api.get(f"/api/v1/projects/{project.id}/photos/{photo_id}/").json()
    assert photo["status"] == "ready"
    thumbnail = api.get(photo["urls"]["thumbnail"])
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/webp"

    described = api.patch(f"/api/v1/projects/{project.id}/photos/{photo_id}/", {"description": "a mug"}, format="json")
    assert described.json()["description"] == "a mug"
    too_long = api.patch(f"/api/v1/projects/{project.id}/photos/{photo_id}/", {"description": "x" * 501}, format="json")
    assert too_long.status_code == 400
    assert len(api.get(f"/api/v1/projects/{project.id}/photos/").json()) == 1


def test_an_upload_with_nothing_accepted_is_a_400(api, owner):
    project = ProjectFactory(owner=owner)
    response = api.post(f"/api/v1/projects/{project.id}/photos/", {"files": [upload(b"", "e.jpg")]}, format="multipart")
    assert response.status_code == 400
    assert response.json()["rejected"] == [{"name": "e.jpg", "error": "The file is empty."}]
    missing = api.post(f"/api/v1/projects/{project.id}/photos/", {}, format="multipart")
    assert missing.status_code == 400
    assert "files" in missing.json()["error"]["details"]


def test_another_users_ids_are_not_found(api, run_on_commit):
    theirs = ProjectFactory(owner=UserFactory())
    with run_on_commit():
        from projects import services

        [photo] = services.photo_upload(project=theirs, files=[photo_upload(1)]).accepted
    for url in (
        f"/api/v1/projects/{theirs.id}/",
        f"/api/v1/projects/{theirs.id}/photos/",
        f"/api/v1/projects/{theirs.id}/photos/{photo.id}/",
        f"/projects/files/{photo.id}/original/",
    ):
        assert api.get(url).status_code == 404, url
    assert api.delete(f"/api/v1/projects/{theirs.id}/").status_code == 404
    assert api.patch(f"/api/v1/projects/{theirs.id}/photos/{photo.id}/", {"description": "x"}).status_code == 404
    assert Photo.objects.get(id=photo.id).description == ""


def test_project_list_api_keeps_a_constant_query_count(api, owner, django_assert_num_queries):
    ProjectFactory(owner=owner)
    api.get("/api/v1/projects/")  # records the token's last use
    with django_assert_num_queries(4):  # token, count, page, the cover photos
        api.get("/api/v1/projects/")
    for _ in range(8):
        ProjectFactory(owner=owner)
    with django_assert_num_queries(4):
        assert api.get("/api/v1/projects/").json()["count"] == 9


def test_anonymous_calls_are_refused(project):
    assert APIClient().get("/api/v1/projects/").status_code == 401
