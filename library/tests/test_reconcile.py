"""Lost messages (a killed worker, a restarted broker) never leave a photo or image out of the library."""

from datetime import timedelta

import pytest
from django.utils import timezone

from generation import services as generation_services
from generation.models import GeneratedImage
from library import services
from library.models import LibraryItem
from library.tests.factories import photo_item
from projects.models import Photo
from projects.tests.factories import ProjectFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_photos_and_images_whose_messages_were_lost_are_added_and_analysed(run_on_commit):
    project = ProjectFactory(name="Morning coffee")
    coffee = photo_item(project, "coffee.jpg", "a cup of espresso with latte art", run_on_commit)
    with run_on_commit():
        generation = generation_services.generation_create(
            user=project.owner, training_run=None, prompt="a red barn in a snowy field at dusk", num_outputs=1
        )
    # The add messages were lost: neither has its library item.
    LibraryItem.objects.all().delete()
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Photo.objects.filter(id=coffee.photo_id).update(processed_at=an_hour_ago)
    GeneratedImage.objects.filter(generation=generation).update(created_at=an_hour_ago)

    with run_on_commit():
        services.library_reconcile()
    items = LibraryItem.objects.order_by("kind")
    assert [(item.kind, item.status) for item in items] == [
        (LibraryItem.Kind.GENERATED, LibraryItem.Status.DONE),
        (LibraryItem.Kind.PHOTO, LibraryItem.Status.DONE),
    ]
    assert services.library_search(user=project.owner, query="hot drink")[0].item.photo_id == coffee.photo_id


def test_a_recent_photo_is_left_to_its_own_message(run_on_commit):
    project = ProjectFactory()
    item = photo_item(project, "coffee.jpg", "a cup of espresso", run_on_commit)
    LibraryItem.objects.all().delete()
    with run_on_commit():
        assert services.library_reconcile() == 0
    assert not LibraryItem.objects.filter(photo_id=item.photo_id).exists()
