import pytest

from accounts.tests.factories import UserFactory
from projects import services
from projects.models import Project
from projects.tests.conftest import stored_files
from projects.tests.factories import ProjectFactory, photo_upload

pytestmark = pytest.mark.django_db


def test_project_admin_lists_filters_and_searches_by_owner(operator_client):
    ProjectFactory(name="Mug", owner=UserFactory(email="maker@example.com"))
    ProjectFactory(name="Ana", category="person")
    assert "Mug" in operator_client.get("/admin/projects/project/", {"q": "maker@"}).content.decode()
    people = operator_client.get("/admin/projects/project/", {"category__exact": "person"}).content.decode()
    assert "Ana" in people
    assert "Mug" not in people


def test_project_admin_shows_photo_thumbnails_and_deletes_files(operator_client, run_on_commit):
    project = ProjectFactory()
    with run_on_commit():
        services.photo_upload(project=project, files=[photo_upload(1)])
    page = operator_client.get(f"/admin/projects/project/{project.id}/change/").content.decode()
    assert "/projects/files/" in page
    assert "photo-1.jpg" in page
    with run_on_commit():
        operator_client.post(f"/admin/projects/project/{project.id}/delete/", {"post": "yes"})
    assert not Project.objects.exists()
    assert stored_files() == set()
