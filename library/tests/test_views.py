"""The library's own pages (library.views.items): the library and its search, an item and its similar ones."""

import pytest

from accounts.tests.factories import UserFactory
from library.tests.factories import generated_item

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_the_search_page_shows_scores_and_why_it_matched(client, run_on_commit, django_assert_max_num_queries):
    user = UserFactory()
    generated_item(user, "a bowl of ramen with a soft boiled egg", run_on_commit)
    generated_item(user, "snowy mountain peaks at sunrise", run_on_commit)
    client.force_login(user)
    response = client.get("/library/", {"q": "ramen noodles soup"})
    assert response.context["tiles"][0]["item"].caption.startswith("a bowl of ramen")
    assert "matched: ramen" in response.content.decode()
    with django_assert_max_num_queries(8):
        client.get("/library/")
    for _ in range(3):
        generated_item(user, "another picture of a cat", run_on_commit)
    with django_assert_max_num_queries(8):
        assert client.get("/library/").content.decode().count('class="image-tile"') == 5


def test_the_library_and_its_search_keep_a_constant_query_count(client, run_on_commit, django_assert_num_queries):
    from library.tests.factories import generated_item, photo_item
    from projects.tests.factories import ProjectFactory

    user = UserFactory()
    generated_item(user, "a cat asleep on a windowsill", run_on_commit)
    client.force_login(user)
    with django_assert_num_queries(5):  # session, user, count, the page's items with their sources, projects
        assert client.get("/library/").content.decode().count('class="image-tile"') == 1
    # Session, user, the vectors' size (a process's first use of the index), index sync (new vectors,
    # count), word map sync (new texts, count), the hits, projects; and the projects whose items the
    # reader sees, once for the index and once for the word map (a membership change rebuilds them).
    with django_assert_num_queries(11):
        assert client.get("/library/", {"q": "cat"}).content.decode().count('class="image-tile"') == 1

    for prompt in ("a cat on a red sofa", "a cat chasing a ball of wool", "a cat in a cardboard box"):
        generated_item(user, prompt, run_on_commit)
    project = ProjectFactory(owner=user)
    photo_item(project, "coffee.jpg", "a cat's bowl beside a cup of coffee", run_on_commit)
    photo_item(project, "astronaut.jpg", "an astronaut holding a cat in a spacesuit", run_on_commit)
    ProjectFactory(owner=user)
    with django_assert_num_queries(5):
        assert client.get("/library/").content.decode().count('class="image-tile"') == 6
    # The index is kept (its size is known), +2 for the projects the reader sees; new projects since
    # the last search: the index's ids are compared with the database's (+1).
    with django_assert_num_queries(11):
        assert client.get("/library/", {"q": "cat"}).content.decode().count('class="image-tile"') >= 4


def test_an_item_page_keeps_a_constant_query_count_as_similar_items_grow(
    client, run_on_commit, django_assert_num_queries
):
    user = UserFactory()
    item = generated_item(user, "a lighthouse on a cliff above a stormy sea", run_on_commit)
    generated_item(user, "a lighthouse at night with its beam on", run_on_commit)
    client.force_login(user)
    # Session, user, the item, the vectors' size (first use), index sync (new vectors, count), its
    # owner, the similar items, the model picker, the item's albums, the user's albums. With
    # projects: the reader's (not the owner's) index, +1 for the projects they see, +1 for whether
    # they may edit the item.
    with django_assert_num_queries(12):
        assert len(client.get(f"/library/items/{item.id}/").context["similar"]) == 1
    for prompt in ("a lighthouse in fog", "a red lighthouse by a pier", "a white lighthouse on a rocky coast"):
        generated_item(user, prompt, run_on_commit)
    with django_assert_num_queries(11):
        page = client.get(f"/library/items/{item.id}/")
    assert len(page.context["similar"]) == 4


@pytest.mark.parametrize(
    ("path", "tab"),
    [
        ("/library/", "All items"),
        ("/library/albums/", "Albums"),
        ("/library/suggestions/", "Suggested albums"),
        ("/library/duplicates/", "Duplicates"),
        ("/library/shares/", "Share links"),
        ("/library/trash/", "Trash"),
    ],
)
def test_the_library_tabs_show_which_section_is_open(client, path, tab):
    import re

    client.force_login(UserFactory())
    page = client.get(path).content.decode()
    nav = re.search(r'<nav class="actions" aria-label="Library">(.*?)</nav>', page, re.S).group(1)
    assert re.findall(r'aria-current="page">([^<]+)<', nav) == [tab]
    assert nav.count("<a ") == 6
