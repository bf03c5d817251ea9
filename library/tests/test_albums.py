"""Albums (library.services.albums): their pages, API and ownership."""

import pytest

from accounts.tests.factories import UserFactory
from library import services
from library.models import Album, LibraryItem
from library.tests.factories import generated_items
from tests.support import api_for, messages_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


@pytest.fixture
def items(owner, run_on_commit):
    return generated_items(owner, "a lighthouse on a cliff", run_on_commit, num_outputs=3)


# Manual albums
# ------------------------------------------------------------------------------


def test_create_add_rename_cover_remove_and_delete_through_the_pages(client, owner, items):
    first, second, third = items
    client.force_login(owner)

    refused = client.post("/library/albums/", {"name": "   "})
    assert refused.status_code == 400
    assert "Give the album a name." in refused.content.decode()
    response = client.post("/library/albums/", {"name": "  Coast   trip "})
    album = Album.objects.get(user=owner)
    assert album.name == "Coast trip"
    assert response.url == f"/library/albums/{album.id}/"

    # From the item page: into the album, twice (a no-op), and into a new album by name.
    page = client.get(f"/library/items/{first.id}/").content.decode()
    assert "Coast trip" in page
    assert f'action="/library/items/{first.id}/add-to-album/"' in page
    for item in items:
        client.post(f"/library/items/{item.id}/add-to-album/", {"album": album.id})
    again = client.post(f"/library/items/{first.id}/add-to-album/", {"album": album.id}, follow=True)
    assert "Already in “Coast trip”." in messages_of(again)
    assert list(album.items.order_by("id")) == items
    client.post(f"/library/items/{first.id}/add-to-album/", {"album": "", "name": "Lighthouses"})
    assert list(Album.objects.get(name="Lighthouses").items.all()) == [first]
    assert "Lighthouses" in client.get(f"/library/items/{first.id}/").content.decode()

    client.post(f"/library/albums/{album.id}/rename/", {"name": "Coast"})
    client.post(f"/library/albums/{album.id}/cover/", {"item": second.id})
    album.refresh_from_db()
    assert (album.name, album.cover) == ("Coast", second)
    page = client.get(f"/library/albums/{album.id}/").content.decode()
    assert page.count('name="items"') == 3
    listing = client.get("/library/albums/").content.decode()
    assert f"/generation/images/{second.generated_image_id}/thumbnail/" in listing
    assert "3 items" in listing

    client.post(f"/library/albums/{album.id}/remove/", {"items": [second.id, third.id]})
    album.refresh_from_db()
    assert list(album.items.all()) == [first]
    assert album.cover is None  # the cover left the album; the first item added shows instead
    assert (
        f"/generation/images/{first.generated_image_id}/thumbnail/" in client.get("/library/albums/").content.decode()
    )

    response = client.post(f"/library/albums/{album.id}/delete/")
    assert response.url == "/library/albums/"
    assert not Album.objects.filter(id=album.id).exists()
    assert LibraryItem.objects.filter(id__in=[item.id for item in items]).count() == 3


def test_bad_album_input_gets_a_message_not_an_error(client, owner, items):
    album = services.album_create(user=owner, name="Coast", item_ids=[items[0].id])
    client.force_login(owner)
    cases = [
        (f"/library/albums/{album.id}/rename/", {"name": "x" * 121}, "Album names are at most 120 characters."),
        (f"/library/albums/{album.id}/cover/", {"item": "nope"}, "Pick one of this album's items as its cover."),
        (f"/library/albums/{album.id}/cover/", {"item": items[1].id}, "Pick one of this album's items as its cover."),
        (f"/library/albums/{album.id}/remove/", {}, "Select the items to remove first."),
        (f"/library/items/{items[1].id}/add-to-album/", {"name": ""}, "Give the album a name."),
    ]
    for url, data, message in cases:
        response = client.post(url, data, follow=True)
        assert response.status_code == 200
        assert message in messages_of(response), url
    album.refresh_from_db()
    assert (album.name, album.cover_id, album.items.count()) == ("Coast", None, 1)
    assert client.get(f"/library/albums/{album.id}/rename/").status_code == 405


def test_albums_and_items_are_their_owners_only(client, owner, items, run_on_commit):
    album = services.album_create(user=owner, name="Mine", item_ids=[items[0].id])
    stranger = UserFactory()
    theirs = generated_items(stranger, "a sailing boat", run_on_commit)[0]

    with pytest.raises(services.AlbumError, match="Only items in your own library"):
        services.album_add_items(album=album, item_ids=[items[1].id, theirs.id])
    assert album.items.count() == 1  # nothing of a refused change is kept

    client.force_login(stranger)
    assert client.get(f"/library/albums/{album.id}/").status_code == 404
    for action in ("rename", "cover", "remove", "delete"):
        assert (
            client.post(f"/library/albums/{album.id}/{action}/", {"name": "x", "item": items[0].id}).status_code == 404
        )
    assert client.post(f"/library/items/{theirs.id}/add-to-album/", {"album": album.id}).status_code == 404
    assert client.post(f"/library/items/{items[1].id}/add-to-album/", {"album": album.id}).status_code == 404
    assert "Mine" not in client.get("/library/albums/").content.decode()
    album.refresh_from_db()
    assert (album.name, album.items.count()) == ("Mine", 1)

    api = api_for(stranger)
    assert api.get(f"/api/v1/library/albums/{album.id}/").status_code == 404
    assert api.patch(f"/api/v1/library/albums/{album.id}/", {"name": "x"}, format="json").status_code == 404
    assert api.delete(f"/api/v1/library/albums/{album.id}/").status_code == 404
    assert api.get(f"/api/v1/library/albums/{album.id}/items/").status_code == 404
    assert (
        api.post(f"/api/v1/library/albums/{album.id}/items/", {"items": [theirs.id]}, format="json").status_code == 404
    )
    assert api.get("/api/v1/library/albums/").json()["count"] == 0
    refused = api.post("/api/v1/library/albums/", {"name": "Stolen", "items": [items[0].id]}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid"
    assert refused.json()["error"]["message"] == "Only items in your own library can be added to your albums."
    assert not Album.objects.filter(user=stranger).exists()


def test_the_album_api(owner, items):
    first, second, third = items
    api = api_for(owner)
    created = api.post("/api/v1/library/albums/", {"name": "Coast", "items": [first.id, second.id]}, format="json")
    assert created.status_code == 201, created.json()
    album = created.json()
    assert (album["name"], album["item_count"], album["cover"]) == ("Coast", 2, None)
    assert album["cover_thumbnail_url"] == f"http://testserver/generation/images/{first.generated_image_id}/thumbnail/"

    added = api.post(f"/api/v1/library/albums/{album['id']}/items/", {"items": [second.id, third.id]}, format="json")
    assert (added.json()["changed"], added.json()["album"]["item_count"]) == (1, 3)
    listed = api.get(f"/api/v1/library/albums/{album['id']}/items/").json()
    assert [item["id"] for item in listed["results"]] == [first.id, second.id, third.id]

    patched = api.patch(f"/api/v1/library/albums/{album['id']}/", {"name": "Shore", "cover": third.id}, format="json")
    assert (patched.json()["name"], patched.json()["cover"]) == ("Shore", third.id)
    assert api.get("/api/v1/library/albums/").json()["results"][0]["cover"] == third.id

    removed = api.post(f"/api/v1/library/albums/{album['id']}/items/remove/", {"items": [third.id]}, format="json")
    assert removed.json()["changed"] == 1
    assert removed.json()["album"]["cover"] is None

    for body, field in (({"items": []}, "items"), ({"items": ["x"]}, "items"), ({}, "items")):
        response = api.post(f"/api/v1/library/albums/{album['id']}/items/", body, format="json")
        assert response.status_code == 400
        assert field in response.json()["error"]["details"]
    refused = api.patch(f"/api/v1/library/albums/{album['id']}/", {"name": "  ", "cover": third.id}, format="json")
    assert refused.status_code == 400
    assert api.get(f"/api/v1/library/albums/{album['id']}/").json()["name"] == "Shore"  # all or nothing
    refused = api.patch(f"/api/v1/library/albums/{album['id']}/", {"cover": third.id}, format="json")
    assert refused.json()["error"]["code"] == "invalid"
    assert refused.json()["error"]["message"] == "Pick one of this album's items as its cover."
    assert api.post("/api/v1/library/albums/", {"name": ""}, format="json").status_code == 400

    assert api.delete(f"/api/v1/library/albums/{album['id']}/").status_code == 204
    assert api.get(f"/api/v1/library/albums/{album['id']}/").status_code == 404
    assert LibraryItem.objects.filter(user=owner).count() == 3


def test_the_albums_page_keeps_a_constant_query_count(client, owner, items, django_assert_num_queries):
    client.force_login(owner)
    services.album_create(user=owner, name="One", item_ids=[items[0].id])
    with django_assert_num_queries(5):  # session, user, count, albums, fallback covers
        page = client.get("/library/albums/").content.decode()
    assert page.count('class="card project-card album-card"') == 1
    covered = services.album_create(user=owner, name="Two", item_ids=[items[1].id, items[2].id])
    services.album_set_cover(album=covered, item_id=items[2].id)
    services.album_create(user=owner, name="Empty")
    services.album_create(user=owner, name="Three", item_ids=[item.id for item in items])
    with django_assert_num_queries(5):
        page = client.get("/library/albums/").content.decode()
    assert page.count('class="card project-card album-card"') == 4
    assert page.count("/thumbnail/") == 3


# Suggested albums
# ------------------------------------------------------------------------------


def test_an_album_page_keeps_a_constant_query_count(client, owner, items, run_on_commit, django_assert_num_queries):
    client.force_login(owner)
    album = services.album_create(user=owner, name="Coast", item_ids=[items[0].id])
    with django_assert_num_queries(5):  # session, user, the album, count, the page's items with their sources
        page = client.get(f"/library/albums/{album.id}/").content.decode()
    assert page.count('class="image-tile"') == 1
    more = generated_items(owner, "a harbour at dawn", run_on_commit, num_outputs=3)
    services.album_add_items(album=album, item_ids=[item.id for item in [*items[1:], *more]])
    with django_assert_num_queries(5):
        page = client.get(f"/library/albums/{album.id}/").content.decode()
    assert page.count('class="image-tile"') == 6


def test_an_album_update_is_all_or_nothing(owner, items):
    album = services.album_create(user=owner, name="Coast", item_ids=[items[0].id])
    with pytest.raises(services.AlbumError, match="Give the album a name."):
        services.album_update(album=album, cover=items[0].id, name="  ")
    with pytest.raises(services.AlbumError, match="Pick one of this album's items as its cover."):
        services.album_update(album=album, name="Shore", cover=items[1].id)
    album = Album.objects.get(id=album.id)
    assert (album.name, album.cover_id) == ("Coast", None)
    services.album_update(album=album, name="Shore", cover=items[0].id)
    album = Album.objects.get(id=album.id)
    assert (album.name, album.cover_id) == ("Shore", items[0].id)
    services.album_update(album=album, cover=None)
    assert Album.objects.get(id=album.id).cover_id is None
    assert Album.objects.get(id=album.id).name == "Shore"
