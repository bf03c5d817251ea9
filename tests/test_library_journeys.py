"""Journeys of a picture through the apps: uploaded or generated, it is analysed into its owner's
library and found by meaning; deleted, it waits in the trash (out of the project, gallery, search and
albums) until it is restored, deleted for good, or purged."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from generation import services as generation_services
from generation.models import GeneratedImage
from library import selectors, services
from library.models import LibraryItem
from library.tests.factories import photo_item
from projects import services as project_services
from projects.models import Photo
from projects.tests.factories import ProjectFactory, photo_upload
from tests.support import messages_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo", "fresh_indexes", "small_test_photos")]


def test_a_deleted_photo_waits_in_the_trash_out_of_sight_and_comes_back(client, owner, photo, run_on_commit):
    with run_on_commit():
        # Described, so that it has words to be found by (an undescribed photo's caption is empty).
        project_services.photo_update_description(photo=photo, description="a ceramic mug on a wooden table")
    item = LibraryItem.objects.get(photo=photo)
    assert item.status == LibraryItem.Status.DONE, item.error
    assert item.caption == "a ceramic mug on a wooden table"
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


def test_uploading_a_file_that_is_in_the_trash_says_to_restore_it(owner, photo):
    project_services.photo_trash(photo=photo)
    with default_storage.open(photo.original.name, "rb") as original:
        again = original.read()
    from projects.tests.factories import upload

    result = project_services.photo_upload(project=photo.project, files=[upload(again, "again.jpg")])
    assert result.rejected == [
        ("again.jpg", f"The same file is in your trash (“{photo.original_filename}”): restore it from Trash instead.")
    ]


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


def test_photos_and_generated_images_are_analysed_and_found_by_meaning(run_on_commit):
    project = ProjectFactory(name="Morning coffee")
    coffee = photo_item(project, "coffee.jpg", "a cup of espresso with latte art on a saucer", run_on_commit)
    astronaut = photo_item(project, "astronaut.jpg", "an astronaut in a white spacesuit with the flag", run_on_commit)
    with run_on_commit():
        generation = generation_services.generation_create(
            user=project.owner, training_run=None, prompt="a red barn in a snowy field at dusk", num_outputs=1
        )
    barn = LibraryItem.objects.get(generated_image__generation=generation)

    for item in (coffee, astronaut, barn):
        item.refresh_from_db()
        assert item.status == LibraryItem.Status.DONE, item.error
        assert item.embedding is not None
        assert item.colours
    assert "espresso" in coffee.tags
    assert "photo" in coffee.tags
    assert "generated" in barn.tags

    # By meaning, in other words and other languages than the description's, and by its words.
    hits = selectors.library_search(user=project.owner, query="una taza de café")
    assert hits[0].item == coffee
    assert hits[0].why == "similar meaning"
    hits = selectors.library_search(user=project.owner, query="space exploration flag")
    assert hits[0].item == astronaut
    assert "flag" in hits[0].matched
    hits = selectors.library_search(user=project.owner, query="Scheune im Schnee")
    assert hits[0].item == barn
    generated_only = selectors.library_search(user=project.owner, query="espresso", kind="generated")
    assert coffee not in [hit.item for hit in generated_only]


def test_a_changed_description_is_analysed_again_and_searchable(run_on_commit):
    project = ProjectFactory()
    item = photo_item(project, "coffee.jpg", "a cup on a table", run_on_commit)
    assert selectors.library_search(user=project.owner, query="a mug on a desk")[0].item == item
    with run_on_commit():
        project_services.photo_update_description(photo=item.photo, description="a glass of orange juice")
    item.refresh_from_db()
    assert "orange" in item.tags
    assert selectors.library_search(user=project.owner, query="a glass of fresh juice")[0].score > 0.5
