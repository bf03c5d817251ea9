"""Suggested albums (library.services.suggestions): proposed once, the same every time, accepted or dismissed."""

import pytest

from accounts.tests.factories import UserFactory
from library import services
from library.models import Album, AlbumSuggestion
from library.tests.factories import generated_items
from tests.support import api_for, messages_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]

BARNS = [
    "a red barn in a snowy field at dusk",
    "a red barn in a snowy field at night",
    "a red barn in a snowy meadow at dusk",
    "an old red barn in a snowy field at sunset",
]
UNRELATED = ["a cup of espresso with latte art", "an astronaut in a white spacesuit with the flag"]


@pytest.fixture
def barns_and_others(owner, run_on_commit):
    barns = [item for prompt in BARNS for item in generated_items(owner, prompt, run_on_commit)]
    others = [item for prompt in UNRELATED for item in generated_items(owner, prompt, run_on_commit)]
    return barns, others


def test_related_items_are_suggested_as_one_album_the_same_every_time(owner, barns_and_others):
    barns, others = barns_and_others
    proposed = services.album_suggestions_refresh(user=owner)
    assert len(proposed) == 1
    suggestion = proposed[0]
    assert sorted(item.id for item in suggestion.items.all()) == [item.id for item in barns]
    assert suggestion.title.startswith("Red barn, snowy field, dusk · ")
    assert suggestion.key == services.album_suggestion_key([item.id for item in barns])

    again = services.album_suggestions_refresh(user=owner)
    assert [(s.id, s.key, s.title) for s in again] == [(suggestion.id, suggestion.key, suggestion.title)]
    assert AlbumSuggestion.objects.filter(user=owner).count() == 1
    # Unrelated users' libraries are clustered apart.
    assert services.album_suggestions_refresh(user=UserFactory()) == []


def test_a_dismissed_suggestion_is_not_proposed_again(client, owner, barns_and_others):
    client.force_login(owner)
    response = client.post("/library/suggestions/refresh/", follow=True)
    assert "1 suggested album to look at." in messages_of(response)
    suggestion = AlbumSuggestion.objects.get(user=owner)
    page = response.content.decode()
    assert suggestion.title in page
    assert page.count("/thumbnail/") == len(BARNS)

    response = client.post(f"/library/suggestions/{suggestion.id}/dismiss/", follow=True)
    assert "Suggestion dismissed; it will not be proposed again." in messages_of(response)
    response = client.post("/library/suggestions/refresh/", follow=True)
    assert "No new groups of similar items found." in messages_of(response)
    suggestion.refresh_from_db()
    assert suggestion.status == AlbumSuggestion.Status.DISMISSED
    assert AlbumSuggestion.objects.filter(user=owner).count() == 1
    again = client.post(f"/library/suggestions/{suggestion.id}/accept/", follow=True)
    assert "This suggestion was already accepted or dismissed." in messages_of(again)
    assert not Album.objects.exists()


def test_accepting_a_suggestion_with_an_edited_title_makes_the_album(client, owner, barns_and_others):
    barns, _ = barns_and_others
    suggestion = services.album_suggestions_refresh(user=owner)[0]
    client.force_login(owner)
    refused = client.post(f"/library/suggestions/{suggestion.id}/accept/", {"title": " "}, follow=True)
    assert "Give the album a name." in messages_of(refused)
    response = client.post(f"/library/suggestions/{suggestion.id}/accept/", {"title": "Winter barns"})
    album = Album.objects.get(user=owner)
    assert response.url == f"/library/albums/{album.id}/"
    assert album.name == "Winter barns"
    assert sorted(album.items.values_list("id", flat=True)) == [item.id for item in barns]
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.album, suggestion.title) == ("accepted", album, "Winter barns")
    assert services.album_suggestions_refresh(user=owner) == []  # accepted: not proposed again


def test_the_suggestion_api_is_owner_scoped(owner, barns_and_others):
    barns, _ = barns_and_others
    api = api_for(owner)
    proposed = api.post("/api/v1/library/album-suggestions/refresh/").json()
    assert len(proposed) == 1
    assert [item["id"] for item in proposed[0]["items"]] == [item.id for item in barns]
    listed = api.get("/api/v1/library/album-suggestions/").json()
    assert listed["count"] == 1
    suggestion_id = listed["results"][0]["id"]

    stranger = api_for(UserFactory())
    assert stranger.get("/api/v1/library/album-suggestions/").json()["count"] == 0
    assert stranger.post(f"/api/v1/library/album-suggestions/{suggestion_id}/accept/").status_code == 404
    assert stranger.post(f"/api/v1/library/album-suggestions/{suggestion_id}/dismiss/").status_code == 404

    accepted = api.post(f"/api/v1/library/album-suggestions/{suggestion_id}/accept/", {}, format="json")
    assert accepted.status_code == 201
    assert accepted.json()["name"] == proposed[0]["title"]
    assert accepted.json()["item_count"] == len(barns)
    twice = api.post(f"/api/v1/library/album-suggestions/{suggestion_id}/dismiss/")
    assert twice.status_code == 400
    assert "already accepted or dismissed" in twice.json()["error"]["message"]
    assert api.get("/api/v1/library/album-suggestions/").json()["count"] == 0


def test_the_suggestions_page_keeps_a_constant_query_count(
    client, owner, barns_and_others, run_on_commit, django_assert_num_queries
):
    client.force_login(owner)
    services.album_suggestions_refresh(user=owner)
    with django_assert_num_queries(4):  # session, user, the suggestions, their items with their sources
        page = client.get("/library/suggestions/").content.decode()
    assert page.count('class="image-tile"') == len(BARNS)
    for prompt in ["a bowl of ramen with an egg", "a bowl of ramen with chopsticks", "a bowl of ramen, steam"]:
        generated_items(owner, prompt, run_on_commit)
    services.album_suggestions_refresh(user=owner)
    assert AlbumSuggestion.objects.filter(user=owner).count() == 2
    with django_assert_num_queries(4):
        page = client.get("/library/suggestions/").content.decode()
    assert page.count('class="image-tile"') == len(BARNS) + 3
