"""A library over the approximate threshold is searched through an IVF index built in the background,
and stays correct as items are added, changed and deleted, before, during and after the build."""

import threading
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from library import embeddings, index, selectors
from library.models import LibraryItem
from library.tests.factories import generated_item

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]

SUBJECTS = [
    "a lighthouse on a cliff above a stormy sea",
    "a chocolate birthday cake with candles",
    "a red tractor in a wheat field",
    "a tabby cat asleep on a windowsill",
    "a steam train crossing a stone viaduct",
    "a bowl of ramen with a soft egg",
    "a snowy mountain peak at dawn",
    "a surfer riding a big wave",
    "a violin resting on sheet music",
    "a field of sunflowers under a blue sky",
    "a hot air balloon over a valley",
    "a penguin colony on the ice",
]


def add_item(user, text: str, *, embedded_at=None) -> LibraryItem:
    """An analysed photo item with its text's real embedding, as the analysis stores it."""
    vector = embeddings.embed_documents([embeddings.Document(text)])[0]
    return LibraryItem.objects.create(
        user=user,
        kind=LibraryItem.Kind.PHOTO,
        status=LibraryItem.Status.DONE,
        caption=text,
        created_at=timezone.now(),
        embedding=embeddings.to_bytes(vector),
        embedding_model=embeddings.model_id(),
        embedded_at=embedded_at or timezone.now(),
    )


def redescribe(item: LibraryItem, text: str) -> None:
    vector = embeddings.embed_documents([embeddings.Document(text)])[0]
    LibraryItem.objects.filter(id=item.id).update(
        caption=text, embedding=embeddings.to_bytes(vector), embedded_at=timezone.now()
    )


def best(user, query: str, limit: int = 3) -> list[int]:
    """The ids the user's index ranks first for the query."""
    return [item_id for item_id, _ in index.index_for(user.id).search(embeddings.embed_query(query), limit)]


@pytest.fixture
def small_threshold(settings):
    settings.LIBRARY_INDEX_APPROXIMATE_ABOVE = 8
    return settings


def test_a_library_over_the_threshold_is_searched_approximately(small_threshold, run_on_commit):
    user = UserFactory()
    items = [generated_item(user, subject, run_on_commit) for subject in SUBJECTS[:6]]
    user_index = index.index_for(user.id)
    assert not user_index.approximate
    assert not user_index.building
    items += [generated_item(user, subject, run_on_commit) for subject in SUBJECTS[6:]]
    user_index = index.index_for(user.id)
    assert user_index.wait_for_build(timeout=60)
    assert user_index.approximate
    assert len(user_index) == len(SUBJECTS)
    assert selectors.library_search(user=user, query="lighthouse by the sea")[0].item == items[0]
    assert selectors.library_search(user=user, query="birthday cake")[0].item == items[1]


def test_the_approximate_index_follows_additions_changes_and_deletions(small_threshold):
    user = UserFactory()
    items = [add_item(user, subject) for subject in SUBJECTS]
    user_index = index.index_for(user.id)
    assert user_index.wait_for_build(timeout=60)
    assert user_index.approximate

    tractor, cat = items[2], items[3]
    redescribe(tractor, "a jazz band playing on a small stage")
    cat.delete()
    owl = add_item(user, "a barn owl hunting at dusk")

    assert index.index_for(user.id) is user_index
    assert user_index.approximate
    assert best(user, "live music concert")[0] == tractor.id
    assert tractor.id not in best(user, "farm machinery")
    assert cat.id not in best(user, "kitten sleeping", limit=len(SUBJECTS))
    assert best(user, "bird of prey")[0] == owl.id
    assert len(user_index) == len(SUBJECTS)


def test_an_embedding_committed_late_is_still_found(small_threshold):
    """An item embedded before the last sync but committed after it is caught by the count check."""
    user = UserFactory()
    for subject in SUBJECTS[1:]:
        add_item(user, subject)
    assert index.index_for(user.id).wait_for_build(timeout=60)
    late = add_item(user, SUBJECTS[0], embedded_at=timezone.now() - timedelta(hours=1))
    assert best(user, "coastal beacon tower")[0] == late.id


def test_the_exact_index_answers_during_the_build_and_its_changes_reach_the_new_index(small_threshold, monkeypatch):
    building, release = threading.Event(), threading.Event()
    build = index._approximate

    def slow_build(source, **kwargs):
        building.set()
        release.wait(timeout=60)
        return build(source, **kwargs)

    monkeypatch.setattr(index, "_approximate", slow_build)
    user = UserFactory()
    items = [add_item(user, subject) for subject in SUBJECTS]
    user_index = index.index_for(user.id)
    assert building.wait(timeout=60)
    assert user_index.building
    try:
        # Searches go on, exactly, while the build waits; so do changes.
        assert not user_index.approximate
        assert best(user, "coastal beacon tower")[0] == items[0].id
        redescribe(items[1], "a fishing boat in a small harbour")
        items[2].delete()
        owl = add_item(user, "a barn owl hunting at dusk")
        assert best(user, "boats in a port")[0] == items[1].id
        assert items[2].id not in best(user, "farm machinery", limit=len(SUBJECTS))
        assert best(user, "bird of prey")[0] == owl.id
        assert user_index.building
        assert not user_index.approximate
    finally:
        release.set()
    assert user_index.wait_for_build(timeout=60)
    assert user_index.approximate
    assert best(user, "boats in a port")[0] == items[1].id
    assert items[1].id not in best(user, "dessert for a party")
    assert items[2].id not in best(user, "farm machinery", limit=len(SUBJECTS))
    assert best(user, "bird of prey")[0] == owl.id
    assert sorted(user_index.ids().tolist()) == sorted(
        LibraryItem.objects.filter(user=user).values_list("id", flat=True)
    )


def test_a_failed_build_leaves_the_exact_index_answering(small_threshold, monkeypatch, caplog):
    def failing_build(source, **kwargs):
        raise MemoryError("no room for the approximate index")

    monkeypatch.setattr(index, "_approximate", failing_build)
    user = UserFactory()
    items = [add_item(user, subject) for subject in SUBJECTS]
    user_index = index.index_for(user.id)
    assert user_index.wait_for_build(timeout=60)
    assert not user_index.approximate
    assert "building the approximate index of 12 items failed" in caplog.text
    items[0].delete()
    assert items[0].id not in best(user, "coastal beacon tower", limit=len(SUBJECTS))
    assert best(user, "dessert for a party")[0] == items[1].id


def test_a_library_that_shrinks_well_under_the_threshold_goes_back_to_exact(small_threshold):
    user = UserFactory()
    items = [add_item(user, subject) for subject in SUBJECTS]
    assert index.index_for(user.id).wait_for_build(timeout=60)
    LibraryItem.objects.filter(id__in=[item.id for item in items[4:]]).delete()
    user_index = index.index_for(user.id)
    assert not user_index.approximate
    assert len(user_index) == 4
    assert best(user, "coastal beacon tower")[0] == items[0].id


def test_a_deep_search_returns_every_item_from_the_approximate_index(small_threshold):
    """Filters make search ask for the whole library: it must get it, not only the nearest cells'."""
    small_threshold.LIBRARY_INDEX_NPROBE = 1
    user = UserFactory()
    items = [add_item(user, subject) for subject in SUBJECTS]
    user_index = index.index_for(user.id)
    assert user_index.wait_for_build(timeout=60)
    assert user_index.approximate
    hits = user_index.search(embeddings.embed_query("anything at all"), len(user_index))
    assert sorted(item_id for item_id, _ in hits) == sorted(item.id for item in items)
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True)


def test_search_results_match_an_exact_search(small_threshold):
    user = UserFactory()
    for subject in SUBJECTS:
        add_item(user, subject)
    user_index = index.index_for(user.id)
    assert user_index.wait_for_build(timeout=60)
    assert user_index.approximate
    vectors = {item.id: embeddings.from_bytes(bytes(item.embedding)) for item in LibraryItem.objects.filter(user=user)}
    query = embeddings.embed_query("a winter landscape")
    exact = sorted(vectors, key=lambda item_id: -float(np.dot(vectors[item_id], query)))[:5]
    assert [item_id for item_id, _ in user_index.search(query, 5)] == exact
