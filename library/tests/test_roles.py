"""The library in a shared project: members see its items and find them by search; editing them
(albums, share links) needs the editor's role; a non-member, or a member removed, sees nothing."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from generation import services as generation_services
from generation.tests.factories import trained_model
from library import selectors
from library.models import Album, AlbumSuggestion
from library.services import albums
from library.tests.factories import photo_item
from projects.models import Membership, Role
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(run_on_commit):
    owner = UserFactory()
    project = ProjectFactory(owner=owner, name="Ceramics")
    item = photo_item(project, "coffee.jpg", "a blue ceramic mug with a chipped handle", run_on_commit)
    editor, viewer = UserFactory(), UserFactory()
    Membership.objects.create(project=project, user=editor, role=Role.EDITOR)
    Membership.objects.create(project=project, user=viewer, role=Role.VIEWER)
    return {"project": project, "item": item, "owner": owner, "editor": editor, "viewer": viewer}


def _found(user, query: str) -> list[int]:
    return [hit.item.id for hit in selectors.library_search(user=user, query=query)]


def test_a_viewer_sees_and_finds_the_projects_items_but_cannot_put_them_in_albums(client, shared):
    viewer, item = shared["viewer"], shared["item"]
    client.force_login(viewer)
    assert 'class="image-tile"' in client.get("/library/").content.decode()
    page = client.get(f"/library/items/{item.id}/")
    assert page.status_code == 200
    assert "Add to album" not in page.content.decode()
    assert item.id in _found(viewer, "chipped mug")
    response = client.post(f"/library/items/{item.id}/add-to-album/", {"name": "Mine"})
    assert response.status_code == 403
    assert not Album.objects.filter(user=viewer).exists()
    album = albums.album_create(user=viewer, name="Mine")
    api = APIClient()
    api.force_authenticate(viewer)
    assert api.get(f"/api/v1/library/items/{item.id}/").status_code == 200
    assert api.post(f"/api/v1/library/albums/{album.id}/items/", {"items": [item.id]}, format="json").status_code == 403
    assert album.items.count() == 0


def test_an_editor_puts_the_projects_items_in_their_own_album(client, shared):
    editor, item = shared["editor"], shared["item"]
    client.force_login(editor)
    assert client.post(f"/library/items/{item.id}/add-to-album/", {"name": "Picks"}).status_code == 302
    album = Album.objects.get(user=editor)
    assert list(album.items.values_list("id", flat=True)) == [item.id]
    # Albums stay personal: the owner does not see the editor's album on the item's page.
    client.force_login(shared["owner"])
    page = client.get(f"/library/items/{item.id}/")
    assert list(page.context["in_albums"]) == []
    assert f"/library/albums/{album.id}/" not in page.content.decode()


def test_a_non_member_gets_404_and_finds_nothing(client, shared):
    stranger, item = UserFactory(), shared["item"]
    client.force_login(stranger)
    assert client.get(f"/library/items/{item.id}/").status_code == 404
    assert client.post(f"/library/items/{item.id}/add-to-album/", {"name": "x"}).status_code == 404
    assert _found(stranger, "chipped mug") == []


def test_a_removed_member_no_longer_finds_the_projects_items(shared):
    viewer, item = shared["viewer"], shared["item"]
    assert item.id in _found(viewer, "chipped mug")  # the index and the word map are built now
    Membership.objects.filter(user=viewer).delete()
    assert _found(viewer, "chipped mug") == []
    assert selectors.library_similar(item=item, user=viewer) == []
    Membership.objects.create(project=shared["project"], user=viewer, role=Role.VIEWER)
    assert item.id in _found(viewer, "chipped mug")


def test_a_member_who_joins_later_finds_the_items_added_before(shared, run_on_commit):
    newcomer = UserFactory()
    assert _found(newcomer, "chipped mug") == []  # an empty index is cached
    Membership.objects.create(project=shared["project"], user=newcomer, role=Role.EDITOR)
    assert shared["item"].id in _found(newcomer, "chipped mug")
    later = photo_item(shared["project"], "astronaut.jpg", "a green teapot on a shelf", run_on_commit)
    assert later.id in _found(newcomer, "green teapot")


def test_albums_and_suggestions_no_longer_show_the_items_of_a_project_left(client, shared):
    editor, item = shared["editor"], shared["item"]
    first = albums.album_create(user=editor, name="Picks", item_ids=[item.id])
    chosen = albums.album_create(user=editor, name="Covered", item_ids=[item.id])
    albums.album_set_cover(album=chosen, item_id=item.id)
    suggestion = AlbumSuggestion.objects.create(user=editor, title="Mugs", key="mugs")
    suggestion.items.add(item)
    shown = {
        album.id: album for album in selectors.album_attach_covers(albums=selectors.album_list_for_user(user=editor))
    }
    assert shown[first.id].item_count == 1
    assert shown[first.id].display_cover == item
    assert shown[chosen.id].display_cover == item

    Membership.objects.filter(user=editor).delete()
    shown = {
        album.id: album for album in selectors.album_attach_covers(albums=selectors.album_list_for_user(user=editor))
    }
    assert [shown[first.id].item_count, shown[chosen.id].item_count] == [0, 0]
    assert shown[first.id].display_cover is None
    assert shown[chosen.id].display_cover is None
    (open_suggestion,) = selectors.album_suggestion_list_for_user(user=editor)
    assert list(open_suggestion.items.all()) == []
    client.force_login(editor)
    page = client.get("/library/albums/").content.decode()
    assert selectors.item_thumbnail_url(item=item) not in page


@pytest.mark.usefixtures("instant_demo")
def test_the_api_shares_a_project_image_for_an_editor_as_the_website_does_and_refuses_a_viewer(shared, run_on_commit):
    run = trained_model(project=shared["project"])
    with run_on_commit():
        generation = generation_services.generation_create(
            user=shared["owner"], training_run=run, prompt="on a beach", num_outputs=1, seed=7
        )
    image = generation.images.get()
    api = APIClient()
    api.force_authenticate(shared["viewer"])
    assert api.post("/api/v1/library/shares/", {"generated_image": image.id}, format="json").status_code == 403
    api.force_authenticate(shared["editor"])
    response = api.post("/api/v1/library/shares/", {"generated_image": image.id}, format="json")
    assert response.status_code == 201
    assert response.json()["generated_image"] == image.id
