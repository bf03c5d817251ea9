"""What each role in a project sees and may do, on the website and through the API: owner
(everything), editor (photos, not settings), viewer (read only); a non-member gets 404."""

import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.tests.factories import UserFactory
from projects import services
from projects.models import Photo, Project, Role
from projects.tests.factories import MembershipFactory, ProjectFactory, photo_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(owner):
    project = ProjectFactory(owner=owner, name="Shared mug")
    for photo in services.photo_upload(project=project, files=[photo_upload(1)]).accepted:
        services.photo_process(photo_id=photo.id)
        services.photo_update_description(photo=Photo.objects.get(id=photo.id), description="a red mug")
    return project


@pytest.fixture
def photo(project):
    return project.photos.get()


def member(project, role):
    return MembershipFactory(project=project, role=role).user


def logged_in(client, user):
    client.force_login(user)
    return client


def api_for(user):
    client = APIClient()
    _, secret = account_services.api_token_create(user=user, name="test")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


# The website
# ------------------------------------------------------------------------------


def test_a_viewer_sees_the_photos_but_no_control_that_writes(client, project, photo):
    page = logged_in(client, member(project, Role.VIEWER)).get(f"/projects/{project.id}/").content.decode()
    assert "Your role: Viewer" in page
    assert "a red mug" in page  # the description, as text
    assert 'name="photos"' not in page  # no uploader
    assert "data-describe" not in page  # no description form (the feed may say "described")
    assert f"/photos/{photo.id}/description/" not in page
    assert f"/photos/{photo.id}/delete/" not in page
    assert f"/projects/{project.id}/edit/" not in page
    assert f"/projects/{project.id}/delete/" not in page
    assert f"/training/projects/{project.id}/train/" not in page
    assert "your role does not let you add, describe or delete them" in page


def test_an_editor_sees_the_photo_controls_but_not_the_settings_or_training(client, project, photo):
    page = logged_in(client, member(project, Role.EDITOR)).get(f"/projects/{project.id}/").content.decode()
    assert "Your role: Editor" in page
    assert 'name="photos"' in page
    assert f"/photos/{photo.id}/description/" in page
    assert f"/photos/{photo.id}/delete/" in page
    assert f"/projects/{project.id}/edit/" not in page
    assert f"/projects/{project.id}/delete/" not in page
    assert f"/training/projects/{project.id}/train/" not in page
    assert "Only the owner" in page


def test_the_owner_sees_every_control(client, owner, project, photo):
    page = logged_in(client, owner).get(f"/projects/{project.id}/").content.decode()
    assert "Your role: Owner" in page
    assert 'name="photos"' in page
    assert f"/photos/{photo.id}/delete/" in page
    assert f"/projects/{project.id}/edit/" in page
    assert f"/projects/{project.id}/delete/" in page


def test_a_viewer_forcing_a_write_is_refused_with_403_and_nothing_changes(client, project, photo, run_on_commit):
    client = logged_in(client, member(project, Role.VIEWER))
    with run_on_commit():
        upload = client.post(f"/projects/{project.id}/photos/", {"photos": [photo_upload(2)]})
    describe = client.post(
        f"/projects/{project.id}/photos/{photo.id}/description/", {f"photo-{photo.id}-description": "vandal"}
    )
    delete = client.post(f"/projects/{project.id}/photos/{photo.id}/delete/")
    assert (upload.status_code, describe.status_code, delete.status_code) == (403, 403, 403)
    assert "does not allow this" in delete.content.decode()
    photo.refresh_from_db()
    assert (project.photos.count(), photo.description, photo.trashed_at) == (1, "a red mug", None)


def test_an_editor_uploads_describes_and_deletes_photos(client, project, photo, run_on_commit):
    client = logged_in(client, member(project, Role.EDITOR))
    with run_on_commit():
        assert client.post(f"/projects/{project.id}/photos/", {"photos": [photo_upload(2)]}).status_code == 302
    client.post(f"/projects/{project.id}/photos/{photo.id}/description/", {f"photo-{photo.id}-description": "blue"})
    photo.refresh_from_db()
    assert photo.description == "blue"
    with run_on_commit():
        assert client.post(f"/projects/{project.id}/photos/{photo.id}/delete/").status_code == 302
    photo.refresh_from_db()
    assert photo.trashed_at is not None
    assert project.photos.filter(trashed_at__isnull=True).count() == 1


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
def test_only_the_owner_changes_or_deletes_the_project(client, project, role):
    client = logged_in(client, member(project, role))
    assert client.get(f"/projects/{project.id}/edit/").status_code == 403
    edit = client.post(f"/projects/{project.id}/edit/", {"name": "Mine now", "category": "product"})
    assert edit.status_code == 403
    assert client.get(f"/projects/{project.id}/delete/").status_code == 403
    assert client.post(f"/projects/{project.id}/delete/").status_code == 403
    project.refresh_from_db()
    assert project.name == "Shared mug"


def test_a_non_member_gets_404_everywhere(client, project, photo):
    client = logged_in(client, UserFactory())
    for url in [
        f"/projects/{project.id}/",
        f"/projects/{project.id}/live/",
        f"/projects/{project.id}/edit/",
        f"/projects/files/{photo.id}/thumbnail/",
    ]:
        assert client.get(url).status_code == 404, url
    for url in [
        f"/projects/{project.id}/photos/",
        f"/projects/{project.id}/photos/{photo.id}/description/",
        f"/projects/{project.id}/photos/{photo.id}/delete/",
        f"/projects/{project.id}/delete/",
    ]:
        assert client.post(url).status_code == 404, url


def test_every_member_gets_the_photo_files_but_only_editors_those_in_the_trash(client, project, photo):
    viewer, editor = member(project, Role.VIEWER), member(project, Role.EDITOR)
    url = f"/projects/files/{photo.id}/thumbnail/"
    assert logged_in(client, viewer).get(url).status_code == 200
    services.photo_trash(photo=photo)
    assert client.get(url).status_code == 404
    assert logged_in(client, editor).get(url).status_code == 200


def test_the_dashboard_lists_shared_projects_with_the_role_and_the_owner(client, project):
    someone = UserFactory(display_name="Grace")
    theirs = ProjectFactory(owner=someone, name="Grace lamp")
    viewer = member(theirs, Role.VIEWER)
    MembershipFactory(project=project, user=viewer, role=Role.EDITOR)
    ProjectFactory(owner=someone, name="Not shared")
    ProjectFactory(owner=viewer, name="Own project")
    page = logged_in(client, viewer).get("/projects/").content.decode()
    assert "Grace lamp" in page
    assert "Shared mug" in page
    assert "Own project" in page
    assert "Not shared" not in page
    assert "shared by Grace" in page
    assert page.count('data-testid="card-owner"') == 2  # the two shared ones, not their own
    assert ">Viewer<" in page
    assert ">Editor<" in page
    assert ">Owner<" in page


def test_the_dashboard_keeps_a_constant_query_count_with_shared_projects(
    client, owner, run_on_commit, django_assert_num_queries
):
    client = logged_in(client, owner)
    MembershipFactory(project=ProjectFactory(), user=owner, role=Role.VIEWER)
    with django_assert_num_queries(
        5
    ):  # session, user, projects (with role and owner), their photos, invitations to you
        client.get("/projects/")
    for role in (Role.EDITOR, Role.VIEWER):
        MembershipFactory(project=ProjectFactory(), user=owner, role=role)
        ProjectFactory(owner=owner)
    with django_assert_num_queries(5):
        assert client.get("/projects/").content.decode().count('data-testid="card-owner"') == 3


# The API
# ------------------------------------------------------------------------------


def test_the_api_gives_the_role_on_every_project(owner, project):
    editor = member(project, Role.EDITOR)
    created = api_for(owner).post("/api/v1/projects/", {"name": "New", "category": "product"}, format="json")
    assert created.status_code == 201
    assert created.json()["role"] == "owner"
    listed = api_for(editor).get("/api/v1/projects/").json()["results"]
    assert [(item["name"], item["role"]) for item in listed] == [("Shared mug", "editor")]
    assert api_for(editor).get(f"/api/v1/projects/{project.id}/").json()["role"] == "editor"
    changed = api_for(owner).patch(f"/api/v1/projects/{project.id}/", {"name": "Renamed"}, format="json")
    assert changed.json()["role"] == "owner"


def test_the_api_refuses_a_viewer_every_write_with_403_in_the_error_shape(project, photo):
    api = api_for(member(project, Role.VIEWER))
    assert api.get(f"/api/v1/projects/{project.id}/photos/").status_code == 200
    answers = [
        api.post(f"/api/v1/projects/{project.id}/photos/", {"files": [photo_upload(3)]}, format="multipart"),
        api.patch(f"/api/v1/projects/{project.id}/photos/{photo.id}/", {"description": "x"}, format="json"),
        api.delete(f"/api/v1/projects/{project.id}/photos/{photo.id}/"),
        api.patch(f"/api/v1/projects/{project.id}/", {"name": "x"}, format="json"),
        api.delete(f"/api/v1/projects/{project.id}/"),
    ]
    assert [answer.status_code for answer in answers] == [403] * 5
    error = answers[0].json()["error"]
    assert error["code"] == "permission_denied"
    assert error["message"] == "Your role in this project (Viewer) does not allow this."
    photo.refresh_from_db()
    assert (photo.description, photo.trashed_at, Project.objects.filter(id=project.id).exists()) == (
        "a red mug",
        None,
        True,
    )


def test_the_api_lets_an_editor_work_on_photos_but_not_the_project(project, photo):
    api = api_for(member(project, Role.EDITOR))
    described = api.patch(f"/api/v1/projects/{project.id}/photos/{photo.id}/", {"description": "blue"}, format="json")
    assert described.status_code == 200
    assert described.json()["description"] == "blue"
    assert api.patch(f"/api/v1/projects/{project.id}/", {"name": "x"}, format="json").status_code == 403
    assert api.delete(f"/api/v1/projects/{project.id}/").status_code == 403
    assert api.delete(f"/api/v1/projects/{project.id}/photos/{photo.id}/").status_code == 204


def test_the_api_answers_a_non_member_404(project, photo):
    api = api_for(UserFactory())
    assert api.get(f"/api/v1/projects/{project.id}/").status_code == 404
    assert api.get(f"/api/v1/projects/{project.id}/photos/{photo.id}/").status_code == 404
    assert api.delete(f"/api/v1/projects/{project.id}/photos/{photo.id}/").status_code == 404
    assert api.get("/api/v1/projects/").json()["results"] == []


def test_the_schema_documents_the_role(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    role = schema["components"]["schemas"]["Project"]["properties"]["role"]
    assert role["readOnly"] is True


@pytest.mark.parametrize("role", [Role.OWNER, Role.EDITOR, Role.VIEWER])
def test_every_member_finds_the_members_page_from_the_project_page(client, project, role):
    user = project.owner if role == Role.OWNER else member(project, role)
    member(project, Role.VIEWER)
    page = logged_in(client, user).get(f"/projects/{project.id}/").content.decode()
    count = 3 if role != Role.OWNER else 2
    link = f'href="/projects/{project.id}/members/" data-testid="members-link">Members ({count})</a>'
    assert link in page


def next_step(page: str) -> str:
    return " ".join(page.split('class="next-step"')[1].split("</p>")[0].split())


def test_the_next_step_tells_a_viewer_who_can_take_it(client, project):
    page = logged_in(client, member(project, Role.VIEWER)).get(f"/projects/{project.id}/").content.decode()
    assert "the owner or an editor fixes the items marked ✕ above." in next_step(page)
    empty = ProjectFactory(owner=project.owner)
    viewer = member(empty, Role.VIEWER)
    page = logged_in(client, viewer).get(f"/projects/{empty.id}/").content.decode()
    assert "the owner or an editor adds photos, then describes each one." in next_step(page)
    page = logged_in(client, empty.owner).get(f"/projects/{empty.id}/").content.decode()
    assert "add photos with the uploader, then describe each one." in next_step(page)
