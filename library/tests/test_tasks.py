"""library.tasks: each task runs its service (eagerly here, as a worker would), on its queue."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from generation.models import GeneratedImage
from library import services, tasks
from library.models import LibraryItem
from library.tests.factories import generated_item, photo_item
from photoagent.celery import app as celery_app
from projects.tests.factories import ProjectFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_analysis_runs_on_its_own_queue_and_lost_analyses_are_requeued(run_on_commit):

    assert celery_app.amqp.router.route({}, "library.analyse_item")["queue"].name == "library"
    user = UserFactory()
    item = generated_item(user, "a paper boat on a puddle", run_on_commit)
    LibraryItem.objects.filter(id=item.id).update(
        status=LibraryItem.Status.PENDING, embedding=None, created_at=timezone.now() - timedelta(hours=1)
    )
    with run_on_commit():
        assert services.library_reconcile() == 1
    item.refresh_from_db()
    assert item.status == LibraryItem.Status.DONE
    assert services.library_reconcile() == 0


def test_the_add_tasks_put_a_lost_photo_back_in_the_library(run_on_commit):
    item = photo_item(ProjectFactory(), "coffee.jpg", "a cup of espresso", run_on_commit)
    LibraryItem.objects.all().delete()
    with run_on_commit():
        tasks.add_photo.delay(item.photo_id)
    assert LibraryItem.objects.get(photo_id=item.photo_id).status == LibraryItem.Status.DONE


def test_the_reconcile_task_adds_what_lost_messages_left_out(run_on_commit):
    user = UserFactory()
    item = generated_item(user, "a paper boat on a puddle", run_on_commit)
    LibraryItem.objects.all().delete()
    GeneratedImage.objects.filter(id=item.generated_image_id).update(created_at=timezone.now() - timedelta(hours=1))
    with run_on_commit():
        tasks.reconcile_items.delay()
    assert LibraryItem.objects.get(generated_image_id=item.generated_image_id).status == LibraryItem.Status.DONE
