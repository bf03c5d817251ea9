import pytest

from accounts.tests.factories import UserFactory
from projects.models import Photo, Project
from projects.tests.conftest import stored_files
from projects.tests.factories import ProjectFactory, photo_upload

pytestmark = pytest.mark.django_db


def test_create_a_project_from_the_website(owner_client, owner):
    response = owner_client.post(
        "/projects/new/", {"name": "Ana", "category": "person", "subject_description": "my sister", "trigger_word": ""}
    )
    project = Project.objects.get(owner=owner)
    assert response.url == f"/projects/{project.id}/"
    assert project.trigger_word.startswith("ANA")
    page = owner_client.get(response.url).content.decode()
    assert "0 / 15" in page
    assert "Not ready to train yet" in page


def test_a_trigger_word_with_a_space_is_refused(owner_client, owner):
    response = owner_client.post("/projects/new/", {"name": "Ana", "category": "person", "trigger_word": "my sister"})
    assert response.status_code == 200
    assert "One word" in response.content.decode()
    assert not Project.objects.exists()


def test_edit_and_rename_the_trigger_word(owner_client, project):
    response = owner_client.post(
        f"/projects/{project.id}/edit/",
        {"name": "Renamed", "category": "product", "subject_description": "", "trigger_word": "NEWWORD"},
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.trigger_word) == ("Renamed", "NEWWORD")


def test_upload_describe_and_delete_photos_without_javascript(owner_client, project, run_on_commit):
    with run_on_commit():
        response = owner_client.post(
            f"/projects/{project.id}/photos/", {"photos": [photo_upload(1), photo_upload(2)]}, follow=True
        )
    assert "2 photos uploaded; processing them now." in response.content.decode()
    photo = Photo.objects.first()
    response = owner_client.post(
        f"/projects/{project.id}/photos/{photo.id}/description/",
        {f"photo-{photo.id}-description": "red mug"},
        follow=True,
    )
    assert "saved" in response.content.decode()
    photo.refresh_from_db()
    assert photo.description == "red mug"
    with run_on_commit():
        owner_client.post(f"/projects/{project.id}/photos/{photo.id}/delete/")
    assert Photo.objects.filter(trashed_at__isnull=True).count() == 1


def test_description_save_answers_json_for_the_page_script(owner_client, project, run_on_commit):
    with run_on_commit():
        owner_client.post(f"/projects/{project.id}/photos/", {"photos": [photo_upload(1)]})
    photo = Photo.objects.get()
    response = owner_client.post(
        f"/projects/{project.id}/photos/{photo.id}/description/",
        {f"photo-{photo.id}-description": "x" * 501},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert "at most 500" in response.json()["error"]


def test_delete_asks_for_confirmation_then_removes_files(owner_client, project, run_on_commit):
    with run_on_commit():
        owner_client.post(f"/projects/{project.id}/photos/", {"photos": [photo_upload(1)]})
    confirm = owner_client.get(f"/projects/{project.id}/delete/")
    assert "cannot be undone" in confirm.content.decode()
    assert Project.objects.exists()
    with run_on_commit():
        owner_client.post(f"/projects/{project.id}/delete/")
    assert not Project.objects.exists()
    assert stored_files() == set()


def test_processing_photos_make_the_page_update_itself_without_reloading(owner_client, project):
    owner_client.post(f"/projects/{project.id}/photos/", {"photos": [photo_upload(1)]})  # task not run
    page = owner_client.get(f"/projects/{project.id}/").content.decode()
    assert "Processing…" in page
    assert 'http-equiv="refresh"' not in page
    assert f'data-live-url="/projects/{project.id}/live/" data-live-active="true"' in page


def test_another_users_project_and_files_are_not_found(client, project, run_on_commit):
    with run_on_commit():
        client.force_login(project.owner)
        client.post(f"/projects/{project.id}/photos/", {"photos": [photo_upload(1)]})
    photo = Photo.objects.get()
    client.force_login(UserFactory())
    for url in (
        f"/projects/{project.id}/",
        f"/projects/{project.id}/edit/",
        f"/projects/{project.id}/delete/",
        f"/projects/files/{photo.id}/thumbnail/",
        f"/projects/files/{photo.id}/original/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/projects/{project.id}/photos/{photo.id}/delete/").status_code == 404
    assert Photo.objects.exists()


def test_files_need_a_login(client, project, run_on_commit):
    with run_on_commit():
        client.force_login(project.owner)
        client.post(f"/projects/{project.id}/photos/", {"photos": [photo_upload(1)]})
    photo = Photo.objects.get()
    assert client.get(f"/projects/files/{photo.id}/thumbnail/")["Content-Type"] == "image/webp"
    client.logout()
    assert client.get(f"/projects/files/{photo.id}/thumbnail/").status_code in (401, 403)


def test_project_list_shows_counts_and_keeps_a_constant_query_count(
    owner_client, owner, run_on_commit, django_assert_num_queries
):
    project = ProjectFactory(owner=owner, name="Mug")
    with run_on_commit():
        owner_client.post(f"/projects/{project.id}/photos/", {"photos": [photo_upload(1), photo_upload(2)]})
    with django_assert_num_queries(5):  # session, user, projects, their photos, invitations to you
        page = owner_client.get("/projects/").content.decode()
    assert "2 / 15" in page
    ProjectFactory.create_batch(6, owner=owner)
    with django_assert_num_queries(5):
        owner_client.get("/projects/")


def test_project_page_keeps_a_constant_query_count(owner_client, project, run_on_commit, django_assert_num_queries):
    with run_on_commit():
        owner_client.post(f"/projects/{project.id}/photos/", {"photos": [photo_upload(1)]})
    with django_assert_num_queries(7):  # session, user, project, photos, training runs, activity (events, links)
        owner_client.get(f"/projects/{project.id}/")
    with run_on_commit():
        owner_client.post(f"/projects/{project.id}/photos/", {"photos": [photo_upload(n) for n in range(2, 9)]})
    with django_assert_num_queries(7):
        owner_client.get(f"/projects/{project.id}/")


def test_an_emptied_description_is_reported_as_cleared_not_saved(owner_client, project, run_on_commit):
    with run_on_commit():
        owner_client.post(f"/projects/{project.id}/photos/", {"photos": [photo_upload(1)]})
    photo = Photo.objects.get()
    url = f"/projects/{project.id}/photos/{photo.id}/description/"
    field = f"photo-{photo.id}-description"
    assert owner_client.post(url, {field: "red mug"}, HTTP_ACCEPT="application/json").json()["message"] == (
        "Description saved."
    )
    answer = owner_client.post(url, {field: "   "}, HTTP_ACCEPT="application/json").json()
    assert (answer["description"], answer["message"]) == ("", "Description cleared.")
    page = owner_client.post(url, {field: ""}, follow=True).content.decode()
    assert "Description cleared for “" in page
    assert "saved" not in page.split('class="messages"')[1].split("</ul>")[0]


def test_a_new_project_page_names_the_uploader_not_its_place_and_labels_the_file_input(owner_client, project):
    page = owner_client.get(f"/projects/{project.id}/").content.decode()
    assert "add photos with the uploader" in page
    assert "below" not in page.split('class="next-step"')[1].split("</p>")[0]
    assert '<label for="id_photos">Choose photos</label>' in page
    assert 'id="id_photos"' in page


def test_a_trained_projects_next_step_is_generating_or_retraining(client, settings):
    from generation.tests.factories import trained_model
    from training.tests.factories import ready_project

    project = ready_project()
    run = trained_model(project=project)
    Project.objects.filter(id=project.id).update(status=Project.Status.TRAINED)
    client.force_login(project.owner)
    page = client.get(f"/projects/{project.id}/").content.decode()
    readiness = page.split('data-live-id="readiness"')[1].split("</section>")[0]
    assert "Trained" in readiness
    assert "Ready to train" not in readiness
    assert "train your model below" not in readiness
    assert "Your model is trained." in readiness
    assert "generate images with your model, or retrain it" in readiness
    assert f'href="/generation/new/?model={run.id}"' in readiness
    assert "Retrain your model" in page
