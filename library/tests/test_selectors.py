"""library.selectors.search: search by meaning stays in the user's library; similar items rank closest first."""

import pytest

from accounts.tests.factories import UserFactory
from library import selectors
from library.tests.factories import generated_item, photo_item
from projects.tests.factories import ProjectFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_search_never_returns_another_users_items(run_on_commit):
    mine = ProjectFactory()
    photo_item(mine, "coffee.jpg", "espresso cup", run_on_commit)
    stranger = UserFactory()
    assert selectors.library_search(user=stranger, query="espresso cup") == []


def test_similar_items_rank_the_closest_first(run_on_commit):
    user = UserFactory()
    first = generated_item(user, "a golden retriever running on a sandy beach", run_on_commit)
    second = generated_item(user, "a dog playing fetch by the sea", run_on_commit)
    generated_item(user, "a stack of invoices on an office desk", run_on_commit)
    similar = selectors.library_similar(item=first)
    assert similar[0].item == second
    assert first not in [hit.item for hit in similar]
