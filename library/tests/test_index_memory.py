"""The indexes of one process stay within LIBRARY_INDEX_MEMORY_BUDGET_MB: the least recently
searched users' indexes are dropped first, and a dropped user's next search is as right as before."""

import pytest

from accounts.tests.factories import UserFactory
from library import index
from library.tests.test_index_scale import SUBJECTS, add_item, best

pytestmark = [pytest.mark.django_db]


def library(subjects):
    user = UserFactory()
    return user, {subject: add_item(user, subject) for subject in subjects}


@pytest.fixture
def budget_for(settings):
    """Sets the budget to hold `count` indexes of `size` bytes (and a bit)."""

    def set_budget(count: float, size: int) -> int:
        settings.LIBRARY_INDEX_MEMORY_BUDGET_MB = count * size / 2**20
        return int(count * size)

    return set_budget


def test_the_least_recently_searched_index_is_dropped_first(budget_for):
    alice, _ = library(SUBJECTS[0:3])
    bob, _ = library(SUBJECTS[3:6])
    carol, _ = library(SUBJECTS[6:9])
    budget = budget_for(2.5, index.index_for(alice.id).nbytes)
    index.index_for(bob.id)
    index.index_for(alice.id)  # alice is now more recent than bob
    assert index.cached_users() == [bob.id, alice.id]
    index.index_for(carol.id)
    assert index.cached_users() == [alice.id, carol.id]  # bob's went, the least recently searched
    assert index.memory_bytes() <= budget
    index.index_for(alice.id)
    index.index_for(bob.id)
    assert index.cached_users() == [alice.id, bob.id]  # then carol's
    assert index.memory_bytes() <= budget


def test_a_dropped_users_search_is_rebuilt_and_still_right(budget_for):
    alice, alices = library(SUBJECTS[0:3])
    bob, bobs = library(SUBJECTS[3:6])
    assert best(alice, "lighthouse by the sea")[0] == alices[SUBJECTS[0]].id
    first = index.index_for(alice.id)
    budget_for(1.5, first.nbytes)
    assert best(bob, "kitten sleeping")[0] == bobs[SUBJECTS[3]].id
    assert index.cached_users() == [bob.id]
    cake = alices[SUBJECTS[1]]
    cake.delete()
    owl = add_item(alice, "a barn owl hunting at dusk")
    # Rebuilt from the database: the changes made while it was out of memory are in.
    assert best(alice, "bird of prey")[0] == owl.id
    assert cake.id not in best(alice, "birthday cake", limit=10)
    assert best(alice, "lighthouse by the sea")[0] == alices[SUBJECTS[0]].id
    assert index.index_for(alice.id) is not first
    assert index.cached_users() == [alice.id]
    # Nor did a dropped index ever answer another user's search.
    assert set(best(bob, "lighthouse by the sea", limit=10)) == {item.id for item in bobs.values()}


def test_an_index_bigger_than_the_budget_is_kept_alone(budget_for):
    alice, _ = library(SUBJECTS[0:2])
    big, bigs = library(SUBJECTS)
    budget = budget_for(2.5, index.index_for(alice.id).nbytes)
    assert index.index_for(big.id).nbytes > budget
    assert index.cached_users() == [big.id]
    assert best(big, "lighthouse by the sea")[0] == bigs[SUBJECTS[0]].id
    assert best(big, "kitten sleeping")[0] == bigs[SUBJECTS[3]].id
    index.index_for(alice.id)
    assert index.cached_users() == [alice.id]  # the big one was the least recently used
