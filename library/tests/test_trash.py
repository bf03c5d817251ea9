"""Deleting is never final by accident: photos and images go to the trash, which restores them or,
after TRASH_RETENTION_DAYS (or on a deliberate "delete permanently now"), deletes them and their files."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.tests.factories import UserFactory
from generation import services as generation_services
from generation.models import GeneratedImage
from library import selectors, services
from library.models import Album, LibraryItem
from projects import services as project_services
from projects.models import Photo
from projects.tests.factories import ProjectFactory, photo_upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def stored_copy(*, project, width: int, height: int, sharpness: float, phash="f0f0f0f0f0f0f0f0", fmt="JPEG"):
    """A photo of `width`×`height` in the library, analysed: what the duplicates page compares.
    Bytes per pixel are those of a typical camera JPEG, the same for every size."""
    photo = Photo.objects.create(
        project=project,
        original=f"users/{project.owner_id}/projects/{project.id}/{width}x{height}/original.jpg",
        original_filename=f"picture-{width}x{height}.jpg",
        format=fmt,
        bytes=int(width * height * 0.25),
        sha256=f"{width:021d}{height:021d}{round(sharpness):022d}",
        width=width,
        height=height,
        status=Photo.Status.READY,
        phash=phash,
    )
    long_side = max(width, height)
    return LibraryItem.objects.create(
        user=project.owner,
        kind=LibraryItem.Kind.PHOTO,
        photo=photo,
        project=project,
        status=LibraryItem.Status.DONE,
        created_at=timezone.now(),
        sha256=photo.sha256,
        phash=phash,
        sharpness=sharpness,
        # The analysed copy is at most 1024 px long.
        width=round(width * min(1, 1024 / long_side)),
        height=round(height * min(1, 1024 / long_side)),
    )


# Keep the best
# ------------------------------------------------------------------------------


def test_keep_the_best_keeps_the_largest_copy_and_moves_the_others_to_the_trash(client):
    """The issue's three copies: the 1920×1080 one measured sharpest (a downscaled copy does), yet
    the 5640×3172 original is the best; the other two go to the trash, not away for good."""
    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    original = stored_copy(project=project, width=5640, height=3172, sharpness=632)
    uhd = stored_copy(project=project, width=3840, height=2160, sharpness=625)
    full_hd = stored_copy(project=project, width=1920, height=1080, sharpness=639)

    (group,) = services.duplicate_groups(user=owner).near
    assert [item.id for item in group.items] == [original.id, uhd.id, full_hd.id]
    client.force_login(owner)
    page = client.get("/library/duplicates/").content.decode()
    assert "move 2 others to the trash? You can restore them from Trash for 30 days." in page

    response = client.post("/library/duplicates/keep-best/", {"items": [full_hd.id, uhd.id, original.id]}, follow=True)
    assert messages_of(response) == ["Kept the best; 2 copies moved to trash — restore them from Trash within 30 days."]
    photos = {photo.id: photo for photo in Photo.objects.all()}
    assert photos[original.photo_id].trashed_at is None
    assert photos[uhd.photo_id].trashed_at is not None
    assert photos[full_hd.photo_id].trashed_at is not None
    assert [item.id for item in services.duplicate_groups(user=owner).near] == []
    trash = client.get("/library/trash/").content.decode()
    assert "picture-3840x2160.jpg" in trash
    assert "picture-1920x1080.jpg" in trash
    assert "picture-5640x3172.jpg" not in trash


@pytest.mark.parametrize(
    ("copies", "best"),
    [
        # One size class (re-saved or cropped by a few pixels): the sharpest.
        ([(3840, 2160, 600), (3840, 2160, 640), (3830, 2154, 620)], 1),
        # Sizes apart: the most pixels, whatever the sharpness.
        ([(1280, 720, 900), (2560, 1440, 300), (1920, 1080, 950)], 1),
        ([(1080, 1920, 700), (2160, 3840, 100)], 1),
    ],
)
def test_resolution_ranks_first_and_sharpness_only_within_one_size_class(copies, best):
    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    items = [stored_copy(project=project, width=w, height=h, sharpness=s) for w, h, s in copies]
    (group,) = services.duplicate_groups(user=owner).near
    assert group.best.id == items[best].id


def test_a_less_compressed_copy_of_the_same_size_beats_a_sharper_looking_one():
    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    heavy = stored_copy(project=project, width=3000, height=2000, sharpness=700)
    Photo.objects.filter(id=heavy.photo_id).update(bytes=3000 * 2000 // 20)  # 0.05 bytes per pixel
    fine = stored_copy(project=project, width=3000, height=2002, sharpness=500)
    (group,) = services.duplicate_groups(user=owner).near
    assert group.best.id == fine.id


# Trash, restore, delete for good, purge
# ------------------------------------------------------------------------------


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def photo(owner, run_on_commit):
    project = ProjectFactory(owner=owner)
    with run_on_commit():
        uploaded = project_services.photo_upload(project=project, files=[photo_upload(1)]).accepted[0]
    uploaded.refresh_from_db()
    assert uploaded.status == Photo.Status.READY
    return uploaded


@pytest.fixture
def image(owner, run_on_commit):
    with run_on_commit():
        generation = generation_services.generation_create(
            user=owner, training_run=None, prompt="a lighthouse on a cliff", num_outputs=1, seed=3
        )
    return generation.images.get()


def test_a_deleted_photo_waits_in_the_trash_out_of_sight_and_comes_back(client, owner, photo, run_on_commit):
    item = LibraryItem.objects.get(photo=photo)
    assert item.status == LibraryItem.Status.DONE, item.error
    album = services.album_create(user=owner, name="Mugs", item_ids=[item.id])
    assert [hit.item.id for hit in selectors.library_search(user=owner, query=item.caption)] == [item.id]
    client.force_login(owner)
    project_page = f"/projects/{photo.project_id}/"
    assert photo.original_filename in client.get(project_page).content.decode()

    response = client.post(f"/projects/{photo.project_id}/photos/{photo.id}/delete/", follow=True)
    assert messages_of(response) == [
        f"“{photo.original_filename}” moved to trash — restore it from Trash within 30 days."
    ]
    page = response.content.decode()
    assert f'id="photo-{photo.id}"' not in page
    assert all(default_storage.exists(name) for name in photo.file_names())  # kept while in the trash
    # Out of every list the user sees.
    assert f"/library/items/{item.id}/" not in client.get("/library/").content.decode()
    assert client.get(f"/library/items/{item.id}/").status_code == 404
    assert client.get(f"/library/albums/{album.id}/").context["page"].paginator.count == 0
    assert selectors.library_search(user=owner, query=item.caption) == []
    assert client.get("/api/v1/library/search/", {"q": item.caption}).json() == []
    assert client.get(f"/api/v1/projects/{photo.project_id}/photos/").json() == []
    assert client.get(f"/api/v1/projects/{photo.project_id}/photos/{photo.id}/").status_code == 404
    assert client.get(f"/api/v1/projects/{photo.project_id}/").json()["photo_count"] == 0
    # In the trash, with its days left and its thumbnail.
    trash = client.get("/library/trash/")
    assert "30 days left" in trash.content.decode()
    assert client.get(trash.context["page"][0].thumbnail_url).status_code == 200

    response = client.post(f"/library/trash/photos/{photo.id}/restore/", follow=True)
    assert messages_of(response) == [f"“{photo.original_filename}” restored: it is back where it was."]
    assert f'id="photo-{photo.id}"' in client.get(project_page).content.decode()
    assert client.get(f"/library/items/{item.id}/").status_code == 200
    assert client.get(f"/library/albums/{album.id}/").context["page"].paginator.count == 1
    assert [hit.item.id for hit in selectors.library_search(user=owner, query=item.caption)] == [item.id]
    assert "The trash is empty." in client.get("/library/trash/").content.decode()


def test_a_deleted_image_waits_in_the_trash_and_comes_back(client, owner, image, run_on_commit):
    client.force_login(owner)
    item = LibraryItem.objects.get(generated_image=image)
    response = client.post(f"/generation/images/{image.id}/delete/", follow=True)
    assert messages_of(response) == ["1 image moved to trash — restore it from Trash within 30 days."]
    assert f"/generation/images/{image.id}/" not in client.get("/generation/").content.decode()
    assert client.get(f"/generation/images/{image.id}/").status_code == 404
    assert client.get(f"/api/v1/images/{image.id}/").status_code == 404
    assert client.get("/api/v1/images/").json()["count"] == 0
    assert client.get(f"/generation/jobs/{image.generation_id}/").context["images"] == []
    assert client.get(f"/library/items/{item.id}/").status_code == 404

    client.post(f"/library/trash/images/{image.id}/restore/")
    assert client.get(f"/generation/images/{image.id}/").status_code == 200
    assert client.get("/api/v1/images/").json()["count"] == 1


def test_the_gallery_counts_the_images_it_moved(client, owner, run_on_commit):
    with run_on_commit():
        generation = generation_services.generation_create(
            user=owner, training_run=None, prompt="two boats", num_outputs=2, seed=5
        )
    first, second = generation.images.all()
    client.force_login(owner)
    response = client.post("/generation/images/selection/", {"action": "delete", "images": [first.id]}, follow=True)
    # One image, even though its library item goes out of sight with it.
    assert messages_of(response) == ["1 image moved to trash — restore it from Trash within 30 days."]
    client.post(f"/library/trash/images/{first.id}/restore/", follow=True)
    response = client.post(
        "/generation/images/selection/", {"action": "delete", "images": [first.id, second.id]}, follow=True
    )
    assert messages_of(response) == ["2 images moved to trash — restore them from Trash within 30 days."]
    assert GeneratedImage.objects.filter(trashed_at__isnull=False).count() == 2


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


def test_uploading_a_file_that_is_in_the_trash_says_to_restore_it(owner, photo):
    project_services.photo_trash(photo=photo)
    with default_storage.open(photo.original.name, "rb") as original:
        again = original.read()
    from projects.tests.factories import upload

    result = project_services.photo_upload(project=photo.project, files=[upload(again, "again.jpg")])
    assert result.rejected == [
        ("again.jpg", f"The same file is in your trash (“{photo.original_filename}”): restore it from Trash instead.")
    ]


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


def test_the_purge_removes_what_was_trashed_long_enough_ago_with_its_files(
    owner, photo, image, settings, run_on_commit
):
    settings.TRASH_RETENTION_DAYS = 30
    kept_photo = Photo.objects.create(
        project=photo.project,
        original=default_storage.save("users/kept/original.jpg", ContentFile(b"x")),
        original_filename="kept.jpg",
        format="JPEG",
        bytes=1,
        sha256="k" * 64,
        width=10,
        height=10,
    )
    long_ago = timezone.now() - timedelta(days=30, minutes=1)
    Photo.objects.filter(id=photo.id).update(trashed_at=long_ago)
    Photo.objects.filter(id=kept_photo.id).update(trashed_at=timezone.now() - timedelta(days=29))
    GeneratedImage.objects.filter(id=image.id).update(trashed_at=long_ago)
    names = photo.file_names() + image.file_names()

    from generation.tasks import purge_trashed_images
    from projects.tasks import purge_trashed_photos

    with run_on_commit():
        purge_trashed_photos.delay()
        purge_trashed_images.delay()
    assert list(Photo.objects.values_list("id", flat=True)) == [kept_photo.id]
    assert not GeneratedImage.objects.exists()
    assert not LibraryItem.objects.exists()
    assert not any(default_storage.exists(name) for name in names)
    assert default_storage.exists(kept_photo.original.name)
    # Again: nothing more to do, nothing breaks.
    with run_on_commit():
        assert project_services.photos_purge_trashed() == 0
        assert generation_services.images_purge_trashed() == 0


def test_the_purge_works_in_batches(owner, run_on_commit):
    with run_on_commit():
        generation = generation_services.generation_create(
            user=owner, training_run=None, prompt="three kites", num_outputs=3, seed=8
        )
        uploaded = project_services.photo_upload(
            project=ProjectFactory(owner=owner), files=[photo_upload(seed) for seed in (1, 2, 3)]
        ).accepted
    names = [name for photo in Photo.objects.all() for name in photo.file_names()]
    assert len(uploaded) == 3
    GeneratedImage.objects.update(trashed_at=timezone.now() - timedelta(days=31))
    Photo.objects.update(trashed_at=timezone.now() - timedelta(days=31))
    with run_on_commit():
        assert generation_services.images_purge_trashed(batch_size=2) == 3
        assert project_services.photos_purge_trashed(batch_size=2) == 3
    assert not generation.images.exists()
    assert not Photo.objects.exists()
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


def test_api_delete_moves_to_the_trash_and_the_trash_restores_or_deletes_for_good(
    client, owner, photo, image, run_on_commit
):
    client.force_login(owner)
    assert client.delete(f"/api/v1/projects/{photo.project_id}/photos/{photo.id}/").status_code == 204
    assert client.delete(f"/api/v1/images/{image.id}/").status_code == 204
    trash = client.get("/api/v1/library/trash/").json()
    assert {(entry["kind"], entry["id"], entry["days_left"]) for entry in trash["results"]} == {
        ("photos", photo.id, 30),
        ("images", image.id, 30),
    }
    assert client.get("/api/v1/images/").json()["count"] == 0
    assert client.get(f"/api/v1/library/items/{LibraryItem.objects.get(photo=photo).id}/").status_code == 404

    assert client.post(f"/api/v1/library/trash/photos/{photo.id}/restore/").status_code == 204
    assert client.get(f"/api/v1/projects/{photo.project_id}/photos/{photo.id}/").status_code == 200
    names = image.file_names()
    with run_on_commit():
        assert client.delete(f"/api/v1/library/trash/images/{image.id}/").status_code == 204
    assert not GeneratedImage.objects.filter(id=image.id).exists()
    assert not any(default_storage.exists(name) for name in names)
    assert client.delete(f"/api/v1/library/trash/photos/{photo.id}/").status_code == 404  # not in the trash
    project_services.photo_trash(photo=photo)
    with run_on_commit():
        assert client.delete("/api/v1/library/trash/").status_code == 204  # empties it
    assert not Photo.objects.filter(id=photo.id).exists()
    assert client.get("/api/v1/library/trash/").json()["results"] == []


# Admin
# ------------------------------------------------------------------------------


def test_operators_filter_trashed_rows_and_restore_them(operator_client, photo, image):
    project_services.photo_trash(photo=photo)
    generation_services.image_trash(image=image)
    for url, row_id in (("/admin/projects/photo/", photo.id), ("/admin/generation/generatedimage/", image.id)):
        listed = operator_client.get(url, {"trashed": "yes"})
        assert [row.id for row in listed.context["cl"].result_list] == [row_id]
        assert list(operator_client.get(url, {"trashed": "no"}).context["cl"].result_list) == []
        response = operator_client.post(
            url, {"action": "restore", "_selected_action": [row_id], "index": 0}, follow=True
        )
        assert response.status_code == 200
    photo.refresh_from_db()
    image.refresh_from_db()
    assert photo.trashed_at is None
    assert image.trashed_at is None
