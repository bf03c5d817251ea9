"""library.services.items: lost messages (a killed worker, a restarted broker) never leave a photo or image
out of the library, and an item's analysis is queued once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from generation import services as generation_services
from generation.models import GeneratedImage
from library import selectors, services
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
    assert selectors.library_search(user=project.owner, query="espresso")[0].item.photo_id == coffee.photo_id


def test_a_recent_photo_is_left_to_its_own_message(run_on_commit):
    project = ProjectFactory()
    item = photo_item(project, "coffee.jpg", "a cup of espresso", run_on_commit)
    LibraryItem.objects.all().delete()
    with run_on_commit():
        assert services.library_reconcile() == 0
    assert not LibraryItem.objects.filter(photo_id=item.photo_id).exists()


def test_an_item_waiting_for_its_analysis_is_never_queued_twice(run_on_commit, django_capture_on_commit_callbacks):
    """Each description saved while the analysis waits, and each reconcile pass, used to add a copy."""
    project = ProjectFactory()
    item = photo_item(project, "coffee.jpg", "a cup of espresso", run_on_commit)
    photo = item.photo
    LibraryItem.objects.filter(id=item.id).update(
        status=LibraryItem.Status.PENDING, created_at=timezone.now() - timedelta(hours=1)
    )
    from projects import services as project_services

    with django_capture_on_commit_callbacks(execute=False) as sent:
        for description in ("a cup of espresso", "an espresso on a saucer", "an espresso, latte art"):
            project_services.photo_update_description(photo=photo, description=description)
            services.item_add_photo(photo_id=photo.id)
        services.library_reconcile()
        services.library_reconcile()
    analyses = [callback for callback in sent if "analyse_item" in repr(callback)]
    assert len(analyses) == 1

    # The waiting message runs, and reads the latest description.
    with run_on_commit():
        services.item_analyse(item_id=item.id)
    item.refresh_from_db()
    assert item.status == LibraryItem.Status.DONE
    assert item.analysis_queued_at is None
    # A change after it started is a new request.
    assert services.item_request_analysis(item_id=item.id) is True
    assert services.item_request_analysis(item_id=item.id) is False


def test_an_analysis_message_lost_with_the_broker_is_sent_again(settings):
    project = ProjectFactory()
    item = LibraryItem.objects.create(
        user=project.owner, kind=LibraryItem.Kind.PHOTO, project=project, created_at=timezone.now() - timedelta(hours=1)
    )
    assert services.item_request_analysis(item_id=item.id) is True
    assert services.item_request_analysis(item_id=item.id) is False
    LibraryItem.objects.filter(id=item.id).update(
        analysis_queued_at=timezone.now() - timedelta(seconds=settings.REDRIVE_AFTER_SECONDS + 1)
    )
    assert services.item_request_analysis(item_id=item.id) is True
