"""Deleting is never final by accident: photos and images go to the trash, which restores them or,
after TRASH_RETENTION_DAYS (or on a deliberate "delete permanently now"), deletes them and their files."""

import pytest
from django.core.files.storage import default_storage

from accounts.tests.factories import UserFactory
from generation import services as generation_services
from generation.models import GeneratedImage
from library import services
from library.models import Album, LibraryItem
from projects import services as project_services
from projects.models import Membership, Photo, Role
from projects.tests.factories import ProjectFactory, photo_upload
from tests.support import messages_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def photo_count_check(project):
    from projects import selectors as project_selectors

    return next(check for check in project_selectors.project_readiness(project=project).checks if check.key == "count")


def test_restoring_a_photo_respects_the_project_limit(client, owner, settings, run_on_commit):
    settings.PROJECT_PHOTOS_MAX = 2
    settings.PROJECT_PHOTOS_MIN = 2
    project = ProjectFactory(owner=owner)
    with run_on_commit():
        first, second = project_services.photo_upload(
            project=project, files=[photo_upload(1), photo_upload(2)]
        ).accepted
    assert photo_count_check(project).message == "2 / 2 photos."
    project_services.photo_trash(photo=first)
    # A photo in the trash does not count towards readiness.
    assert photo_count_check(project).message == "1 / 2 photos; training needs 2."
    with run_on_commit():
        (third,) = project_services.photo_upload(project=project, files=[photo_upload(3)]).accepted
    client.force_login(owner)

    response = client.post(f"/library/trash/photos/{first.id}/restore/", follow=True)
    assert messages_of(response) == [
        f"“{first.original_filename}” cannot be restored: its project already has 2 photos. Delete one of them first."
    ]
    first.refresh_from_db()
    assert first.trashed_at is not None
    project_services.photo_trash(photo=third)
    client.post(f"/library/trash/photos/{first.id}/restore/")
    first.refresh_from_db()
    assert first.trashed_at is None
    assert photo_count_check(project).message == "2 / 2 photos."


def test_delete_permanently_asks_first_then_removes_the_files(client, owner, photo, image, run_on_commit):
    project_services.photo_trash(photo=photo)
    generation_services.image_trash(image=image)
    names = photo.file_names() + image.file_names()
    client.force_login(owner)

    confirm = client.get(f"/library/trash/photos/{photo.id}/delete/")
    assert "Delete permanently now" in confirm.content.decode()
    assert Photo.objects.filter(id=photo.id).exists()  # a GET changes nothing
    with run_on_commit():
        response = client.post(f"/library/trash/photos/{photo.id}/delete/", follow=True)
        client.post(f"/library/trash/images/{image.id}/delete/")
    assert messages_of(response) == ["Deleted for good, with its stored files."]
    assert not Photo.objects.filter(id=photo.id).exists()
    assert not GeneratedImage.objects.filter(id=image.id).exists()
    assert not any(default_storage.exists(name) for name in names)
    assert client.post(f"/library/trash/photos/{photo.id}/delete/").status_code == 404


def test_only_things_in_the_trash_can_be_deleted_for_good_there(client, owner, photo, image):
    client.force_login(owner)
    for url in (f"/library/trash/photos/{photo.id}/delete/", f"/library/trash/images/{image.id}/delete/"):
        assert client.post(url).status_code == 404
    assert client.post(f"/library/trash/albums/{photo.id}/delete/").status_code == 404
    stranger = UserFactory()
    project_services.photo_trash(photo=photo)
    client.force_login(stranger)
    assert client.post(f"/library/trash/photos/{photo.id}/delete/").status_code == 404
    assert client.post(f"/library/trash/photos/{photo.id}/restore/").status_code == 404
    assert Photo.objects.filter(id=photo.id).exists()


def test_empty_trash_asks_first_and_deletes_everything_in_it(client, owner, photo, image, run_on_commit):
    project_services.photo_trash(photo=photo)
    generation_services.image_trash(image=image)
    names = photo.file_names() + image.file_names()
    client.force_login(owner)
    assert "Delete 2 items permanently" in client.get("/library/trash/empty/").content.decode()
    with run_on_commit():
        response = client.post("/library/trash/empty/", follow=True)
    assert messages_of(response) == ["Trash emptied: 2 items deleted for good."]
    assert not Photo.objects.exists()
    assert not GeneratedImage.objects.exists()
    assert not any(default_storage.exists(name) for name in names)


def test_an_album_and_its_count_leave_out_what_is_in_the_trash(client, owner, photo, image):
    items = [LibraryItem.objects.get(photo=photo), LibraryItem.objects.get(generated_image=image)]
    album = services.album_create(user=owner, name="Both", item_ids=[item.id for item in items])
    services.album_set_cover(album=album, item_id=items[0].id)
    project_services.photo_trash(photo=photo)
    client.force_login(owner)
    assert "1 item ·" in client.get("/library/albums/").content.decode()
    assert client.get(f"/api/v1/library/albums/{album.id}/").json()["item_count"] == 1
    assert [entry["id"] for entry in client.get(f"/api/v1/library/albums/{album.id}/items/").json()["results"]] == [
        items[1].id
    ]
    assert Album.objects.get(id=album.id).cover_id == items[0].id  # the cover comes back with the photo


# API
# ------------------------------------------------------------------------------


# Admin
# ------------------------------------------------------------------------------


def test_an_editor_empties_the_trash_of_the_shared_projects_photos_too(client, owner, photo, run_on_commit):
    editor, viewer = UserFactory(), UserFactory()
    Membership.objects.create(project=photo.project, user=editor, role=Role.EDITOR)
    Membership.objects.create(project=photo.project, user=viewer, role=Role.VIEWER)
    project_services.photo_trash(photo=photo)
    with run_on_commit():
        assert services.trash_empty(user=viewer) == 0
    assert Photo.objects.filter(id=photo.id).exists()
    client.force_login(editor)
    with run_on_commit():
        response = client.post("/library/trash/empty/", follow=True)
    assert messages_of(response) == ["Trash emptied: 1 item deleted for good."]
    assert not Photo.objects.filter(id=photo.id).exists()
