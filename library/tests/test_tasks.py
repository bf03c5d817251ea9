"""library.tasks: each task runs its service (eagerly here, as a worker would), on its queue."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from accounts.tests.factories import UserFactory
from generation.models import GeneratedImage
from library import embeddings, index, services, tasks
from library.models import LibraryItem, ReembedProgress
from library.services import analysis
from library.tests.factories import generated_item, generated_items, photo_item
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


# The background re-embed after a model change
# ------------------------------------------------------------------------------


@pytest.fixture
def upgraded(settings, run_on_commit):
    """Five items of one user embedded by the old model, then an upgrade to the new one; returns the new one."""
    settings.LIBRARY_EMBEDDING_BACKEND = "library.tests.fake_embedders.WordsBackend"
    user = UserFactory()
    generated_items(user, "a red tractor in a wheat field", run_on_commit, num_outputs=4)
    generated_item(user, "a lighthouse above a stormy sea", run_on_commit)
    settings.LIBRARY_EMBEDDING_BACKEND = "library.tests.fake_embedders.NewWordsBackend"
    new_model = embeddings.backend()
    new_model.reset()
    return new_model


def re_embedded() -> int:
    return LibraryItem.objects.filter(embedding_model=embeddings.model_id()).count()


def embedded_texts(model) -> int:
    return sum(len(call) for call in model.calls)


def test_the_beat_runs_the_re_embed_on_the_library_queue():
    entry = next(
        entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "library.reembed_stale"
    )
    assert entry["schedule"] <= 60
    assert "library.reembed_stale" in celery_app.tasks
    assert celery_app.amqp.router.route({}, "library.reembed_stale")["queue"].name == "library"


def test_each_run_re_embeds_a_bounded_batch_until_none_is_stale(upgraded, settings):
    settings.LIBRARY_REEMBED_ITEMS_PER_RUN = 2
    done = []
    for _ in range(3):
        tasks.reembed_stale.delay()
        done.append(re_embedded())
    assert done == [2, 4, 5]
    progress = ReembedProgress.objects.get()
    assert (progress.model, progress.embedded) == ("words-2", 5)
    assert progress.done_at is not None
    assert progress.lease_holder == ""  # let go after each run

    texts = embedded_texts(upgraded)
    tasks.reembed_stale.delay()  # done: the next runs look at nothing
    assert embedded_texts(upgraded) == texts


def test_a_run_that_starts_while_another_works_does_nothing(upgraded, settings):
    settings.LIBRARY_REEMBED_ITEMS_PER_RUN = 10
    started_meanwhile = []
    upgraded.during_call = lambda: started_meanwhile.append(analysis.library_reembed_stale(limit=10))

    assert analysis.library_reembed_stale(limit=10) == 5

    assert started_meanwhile == [0]
    assert len(upgraded.calls) == 1  # every item embedded once


def test_a_run_whose_worker_died_is_taken_over_once_its_lease_runs_out(upgraded):
    ReembedProgress.objects.create(
        id=1, model="words-2", lease_holder="dead-worker", lease_until=timezone.now() + timedelta(minutes=1)
    )
    assert analysis.library_reembed_stale(limit=10) == 0
    ReembedProgress.objects.filter(id=1).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert analysis.library_reembed_stale(limit=10) == 5


def test_a_new_model_after_a_finished_re_embed_starts_again(upgraded, settings):
    assert analysis.library_reembed_stale(limit=10) == 5
    settings.LIBRARY_EMBEDDING_BACKEND = "library.tests.fake_embedders.WordsBackend"  # back to the old one
    assert analysis.library_reembed_stale(limit=10) == 5
    assert set(LibraryItem.objects.values_list("embedding_model", flat=True)) == {"words-1"}


def test_stale_items_are_out_of_the_index_until_they_are_re_embedded(upgraded, settings):
    user_id = LibraryItem.objects.values_list("user_id", flat=True).first()
    assert len(index.index_for(user_id)) == 0
    assert analysis.library_reembed_stale(limit=3) == 3
    assert len(index.index_for(user_id)) == 3
