"""Share links: one image or one album, read-only and without login, revocable, maybe expiring, and
nothing else of the owner's reachable through them."""

import re
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from generation import services as generation_services
from generation.tests.factories import trained_model
from library import selectors, services
from library.models import Album, AlbumItem, LibraryItem, ShareLink
from projects import services as project_services
from projects.models import Role
from projects.tests.factories import PHOTOS, MembershipFactory, ProjectFactory, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


@pytest.fixture
def owner_images(run_on_commit):
    """A user with two generated images (each with its library item)."""
    run = trained_model()
    with run_on_commit():
        generation = generation_services.generation_create(
            user=run.project.owner, training_run=run, prompt="on a beach", num_outputs=2, seed=3
        )
    first, second = generation.images.order_by("index")
    return run.project.owner, first, second


@pytest.fixture
def stranger_image(run_on_commit):
    stranger = UserFactory()
    with run_on_commit():
        generation = generation_services.generation_create(
            user=stranger, training_run=None, prompt="someone else's barn", num_outputs=1
        )
    return generation.images.get()


def photo_item(owner, run_on_commit) -> LibraryItem:
    project = ProjectFactory(owner=owner)
    with run_on_commit():
        photo = project_services.photo_upload(
            project=project, files=[upload((PHOTOS / "coffee.jpg").read_bytes(), "coffee.jpg")]
        ).accepted[0]
    return LibraryItem.objects.get(photo=photo)


def album_of(owner, name, items) -> Album:
    album = Album.objects.create(user=owner, name=name)
    for item in items:
        AlbumItem.objects.create(album=album, item=item)
    return album


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def stored(field) -> bytes:
    with default_storage.open(field.name, "rb") as file:
        return file.read()


def assert_public_headers(response):
    assert "noindex" in response["X-Robots-Tag"]
    assert response["Referrer-Policy"] == "no-referrer"


def assert_missing(response):
    assert response.status_code == 404
    assert "This link does not open anything" in response.content.decode()
    assert_public_headers(response)


def links_on(page: str) -> list[str]:
    return re.findall(r'(?:href|src|action)="([^"]*)"', page)


# The owner makes a link; anyone can view it, logged out
# ------------------------------------------------------------------------------


def test_an_image_link_made_from_the_image_page_works_logged_out(client, owner_images):
    owner, image, _ = owner_images
    client.force_login(owner)
    image_page = client.get(f"/generation/images/{image.id}/").content.decode()
    assert 'action="/library/shares/new/"' in image_page
    assert f'name="generated_image" value="{image.id}"' in image_page

    response = client.post("/library/shares/new/", {"generated_image": image.id, "expires_in_days": ""}, follow=True)
    share = ShareLink.objects.get()
    assert response.redirect_chain[-1][0] == f"/library/shares/#share-{share.id}"
    page = response.content.decode()
    assert "Link made: anyone who has it can view this image until you revoke it." in page
    assert f"http://testserver/s/{share.token}/" in page
    assert share.generated_image == image
    assert share.expires_at is None

    visitor = Client()
    public = visitor.get(f"/s/{share.token}/")
    assert public.status_code == 200
    assert_public_headers(public)
    assert public["Cache-Control"] == "no-store"
    html = public.content.decode()
    assert "simulated" in html  # demo images stay marked as such wherever they are shown
    full_url = f"/s/{share.token}/files/{image.id}/full/"
    assert f'src="{full_url}"' in html
    file = visitor.get(full_url)
    assert file.status_code == 200
    assert file["Content-Type"] == "image/webp"
    assert_public_headers(file)
    assert body(file) == stored(image.file)
    assert body(visitor.get(f"/s/{share.token}/files/{image.id}/thumbnail/")) == stored(image.thumbnail)

    visitor.get(f"/s/{share.token}/")
    client.get(f"/s/{share.token}/")  # the owner checking their own link is not a view
    share.refresh_from_db()
    assert share.views == 2


def test_an_album_link_shows_its_items_logged_out(client, owner_images, run_on_commit):
    owner, image, _ = owner_images
    generated = LibraryItem.objects.get(generated_image=image)
    photo = photo_item(owner, run_on_commit)
    album = album_of(owner, "Summer at the beach", [generated, photo])
    client.force_login(owner)
    response = client.post("/library/shares/new/", {"album": album.id, "expires_in_days": "7"}, follow=True)
    share = ShareLink.objects.get()
    assert share.album == album
    assert timedelta(days=7) - timedelta(minutes=1) < share.expires_at - timezone.now() <= timedelta(days=7)
    assert "view this album until" in response.content.decode()

    visitor = Client()
    page = visitor.get(f"/s/{share.token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Summer at the beach" in html
    assert "2 pictures" in html
    for item in (generated, photo):
        assert f'src="/s/{share.token}/files/{item.id}/thumbnail/"' in html
        assert f'href="/s/{share.token}/items/{item.id}/"' in html  # opens in the viewer
    assert body(visitor.get(f"/s/{share.token}/files/{generated.id}/full/")) == stored(image.file)
    photo_file = visitor.get(f"/s/{share.token}/files/{photo.id}/full/")
    assert photo_file["Content-Type"] == "image/jpeg"
    # The processed copy, never the upload (which may carry EXIF and GPS data).
    assert body(photo_file) == stored(photo.photo.training_image)
    assert body(photo_file) != stored(photo.photo.original)
    assert_missing(visitor.get(f"/s/{share.token}/files/{photo.id}/original/"))


def test_an_album_picture_opens_in_a_viewer_with_a_way_back_and_on(owner_images, stranger_image, run_on_commit):
    owner, image, sibling = owner_images
    first, second = (LibraryItem.objects.get(generated_image=each) for each in (image, sibling))
    photo = photo_item(owner, run_on_commit)
    album = album_of(owner, "Summer at the beach", [first, second, photo])
    AlbumItem.objects.create(album=album, item=LibraryItem.objects.get(generated_image=stranger_image))
    share = services.share_create(user=owner, album=album)
    visitor = Client()

    response = visitor.get(f"/s/{share.token}/items/{second.id}/")
    assert response.status_code == 200
    assert_public_headers(response)
    html = response.content.decode()
    assert "Picture 2 of 3" in html  # the stranger's item slipped into the album is not counted
    assert f'<img src="/s/{share.token}/files/{second.id}/full/"' in html
    assert re.search(rf'href="/s/{share.token}/"[^>]*>← Back to the album<', html)
    assert re.search(rf'href="/s/{share.token}/items/{first.id}/" rel="prev"', html)
    assert re.search(rf'href="/s/{share.token}/items/{photo.id}/" rel="next"', html)
    for url in links_on(html):
        assert url.startswith((f"/s/{share.token}/", "/static/", "#")), url
    assert "on a beach" not in html  # no captions from the owner's prompts
    last = visitor.get(f"/s/{share.token}/items/{photo.id}/").content.decode()
    assert "Picture 3 of 3" in last
    assert 'rel="next"' not in last
    share.refresh_from_db()
    assert share.views == 0  # looking through an album is one view of its page, not one per picture

    stranger_item = LibraryItem.objects.get(generated_image=stranger_image)
    assert_missing(visitor.get(f"/s/{share.token}/items/{stranger_item.id}/"))
    image_share = services.share_create(user=owner, generated_image=image)
    assert_missing(visitor.get(f"/s/{image_share.token}/items/{first.id}/"))
    services.share_revoke(user=owner, share=share)
    assert_missing(visitor.get(f"/s/{share.token}/items/{second.id}/"))


# Nothing else of the owner's is reachable through a link
# ------------------------------------------------------------------------------


def test_an_image_link_reaches_that_image_only(owner_images, stranger_image):
    owner, image, sibling = owner_images
    share = services.share_create(user=owner, generated_image=image)
    visitor = Client()
    assert visitor.get(f"/s/{share.token}/files/{image.id}/full/").status_code == 200
    for other_id in (sibling.id, stranger_image.id, image.id + 1000):
        assert_missing(visitor.get(f"/s/{share.token}/files/{other_id}/full/"))
        assert_missing(visitor.get(f"/s/{share.token}/files/{other_id}/thumbnail/"))
    item = LibraryItem.objects.get(generated_image=image)
    if item.id != image.id:  # an item id is not an image id
        assert_missing(visitor.get(f"/s/{share.token}/files/{item.id}/full/"))
    for variant in ("file", "original", "training", "preview", "..", "FULL"):
        assert visitor.get(f"/s/{share.token}/files/{image.id}/{variant}/").status_code == 404

    # The page links to nothing but the shared image and static files.
    page = visitor.get(f"/s/{share.token}/").content.decode()
    for url in links_on(page):
        assert url.startswith((f"/s/{share.token}/", "/static/", "#")), url
    assert str(sibling.id) not in re.findall(r"/files/(\d+)/", page)

    # The owner's own URLs stay closed to the visitor, token or not.
    for private in (
        f"/generation/images/{image.id}/",
        f"/generation/images/{image.id}/file/",
        f"/generation/images/{image.id}/download/",
        f"/generation/images/{sibling.id}/file/",
        f"/library/items/{LibraryItem.objects.get(generated_image=sibling).id}/",
        "/library/shares/",
        f"/api/v1/images/{image.id}/",
        f"/api/v1/library/shares/{share.id}/",
    ):
        response = visitor.get(private, {"token": share.token})
        assert response.status_code in (302, 401, 403), (private, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")


def test_an_album_link_reaches_its_own_items_only(owner_images, stranger_image, run_on_commit):
    owner, image, sibling = owner_images
    shared_item = LibraryItem.objects.get(generated_image=image)
    other_item = LibraryItem.objects.get(generated_image=sibling)
    stranger_item = LibraryItem.objects.get(generated_image=stranger_image)
    album = album_of(owner, "Shared", [shared_item])
    album_of(owner, "Private", [other_item])
    # Even an item of someone else slipped into the album is not served through the owner's link.
    AlbumItem.objects.create(album=album, item=stranger_item)
    share = services.share_create(user=owner, album=album)
    visitor = Client()

    page = visitor.get(f"/s/{share.token}/").content.decode()
    assert f"/files/{shared_item.id}/" in page
    assert f"/files/{other_item.id}/" not in page
    assert f"/files/{stranger_item.id}/" not in page
    for url in links_on(page):
        assert url.startswith((f"/s/{share.token}/", "/static/", "#")), url
    # Captions are written from the owner's project names and prompts: not shown to visitors.
    assert owner.projects.get().name not in page
    assert "on a beach" not in page

    assert visitor.get(f"/s/{share.token}/files/{shared_item.id}/full/").status_code == 200
    for other_id in (other_item.id, stranger_item.id):
        assert_missing(visitor.get(f"/s/{share.token}/files/{other_id}/full/"))
        assert_missing(visitor.get(f"/s/{share.token}/files/{other_id}/thumbnail/"))
    item_ids = set(AlbumItem.objects.filter(album=album).values_list("item_id", flat=True))
    for image_id in (image.id, sibling.id):  # image ids are not item ids
        if image_id not in item_ids:
            assert_missing(visitor.get(f"/s/{share.token}/files/{image_id}/full/"))

    # An image link of the same owner does not open album items either.
    image_share = services.share_create(user=owner, generated_image=sibling)
    if shared_item.id != sibling.id:
        assert_missing(visitor.get(f"/s/{image_share.token}/files/{shared_item.id}/full/"))


# Revoked, expired and unknown links
# ------------------------------------------------------------------------------


def test_revoked_and_expired_links_show_a_friendly_404(client, owner_images):
    owner, image, _ = owner_images
    revoked = services.share_create(user=owner, generated_image=image)
    expiring = services.share_create(user=owner, generated_image=image, expires_in_days=1)
    visitor = Client()
    assert visitor.get(f"/s/{revoked.token}/").status_code == 200
    assert visitor.get(f"/s/{expiring.token}/").status_code == 200

    client.force_login(owner)
    response = client.post(f"/library/shares/{revoked.id}/revoke/", follow=True)
    assert "Link revoked" in response.content.decode()
    ShareLink.objects.filter(id=expiring.id).update(expires_at=timezone.now() - timedelta(seconds=1))

    for share in (revoked, expiring):
        assert_missing(visitor.get(f"/s/{share.token}/"))
        assert_missing(visitor.get(f"/s/{share.token}/files/{image.id}/full/"))
        assert selectors.share_resolve(token=share.token) is None
    assert_missing(visitor.get("/s/not-a-real-token/"))
    assert_missing(visitor.get(f"/s/{'x' * 200}/"))
    assert_missing(visitor.get(f"/s/{revoked.token[:-1]}/"))
    assert ShareLink.objects.get(id=revoked.id).views == 1  # the refused visits are not counted

    page = client.get("/library/shares/").content.decode()
    assert "revoked" in page
    assert "expired" in page
    assert revoked.token not in page
    assert expiring.token not in page


def test_a_link_of_a_deactivated_account_opens_nothing(owner_images):
    owner, image, _ = owner_images
    share = services.share_create(user=owner, generated_image=image)
    owner.is_active = False
    owner.save()
    assert_missing(Client().get(f"/s/{share.token}/"))


def test_tokens_are_long_random_and_never_repeat(owner_images):
    owner, image, _ = owner_images
    first = services.share_create(user=owner, generated_image=image)
    second = services.share_create(user=owner, generated_image=image)
    assert first.token != second.token
    for share in (first, second):
        assert len(share.token) >= 32
        assert re.fullmatch(r"[A-Za-z0-9_-]+", share.token)
    more = {services.share_create(user=owner, generated_image=image).token for _ in range(20)}
    assert len(more) == 20
    assert len({token[:8] for token in more}) == 20  # no shared prefix or counter


# Only the owner makes and revokes links
# ------------------------------------------------------------------------------


def test_another_user_cannot_share_your_image_or_album(client, owner_images):
    owner, image, _ = owner_images
    album = album_of(owner, "Mine", [LibraryItem.objects.get(generated_image=image)])
    intruder = UserFactory()

    with pytest.raises(services.ShareNotAllowed):
        services.share_create(user=intruder, generated_image=image)
    with pytest.raises(services.ShareNotAllowed):
        services.share_create(user=intruder, album=album)

    client.force_login(intruder)
    assert client.post("/library/shares/new/", {"generated_image": image.id}).status_code == 404
    assert client.post("/library/shares/new/", {"album": album.id}).status_code == 404

    api = APIClient()
    api.force_authenticate(intruder)
    refused = api.post("/api/v1/library/shares/", {"generated_image": image.id}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["generated_image"] == ["No image of yours has this id."]
    refused = api.post("/api/v1/library/shares/", {"album": album.id}, format="json")
    assert refused.json()["error"]["details"]["album"] == ["No album of yours has this id."]
    assert not ShareLink.objects.exists()


def test_another_user_cannot_revoke_or_see_your_link(client, owner_images):
    owner, image, _ = owner_images
    share = services.share_create(user=owner, generated_image=image)
    intruder = UserFactory()

    with pytest.raises(services.ShareNotAllowed):
        services.share_revoke(user=intruder, share=share)
    client.force_login(intruder)
    assert client.post(f"/library/shares/{share.id}/revoke/").status_code == 404
    assert share.token not in client.get("/library/shares/").content.decode()
    api = APIClient()
    api.force_authenticate(intruder)
    assert api.post(f"/api/v1/library/shares/{share.id}/revoke/").status_code == 404
    assert api.get(f"/api/v1/library/shares/{share.id}/").status_code == 404
    assert api.get("/api/v1/library/shares/").json()["results"] == []

    share.refresh_from_db()
    assert share.revoked_at is None
    assert Client().get(f"/s/{share.token}/").status_code == 200


def test_bad_input_gets_a_clear_message_not_an_error(client, owner_images):
    owner, image, _ = owner_images
    client.force_login(owner)
    for data, message in (
        ({"generated_image": image.id, "expires_in_days": "soon"}, "The expiry is a number of days."),
        ({"generated_image": image.id, "expires_in_days": "0"}, "A link can expire in 1 to 365 days, or never."),
        ({"generated_image": image.id, "expires_in_days": "9999"}, "A link can expire in 1 to 365 days, or never."),
        ({}, "Share one image or one album."),
        ({"generated_image": "abc"}, "Share one image or one album."),
    ):
        response = client.post("/library/shares/new/", data, follow=True)
        assert response.status_code == 200, data
        assert message in response.content.decode(), data
    assert client.post("/library/shares/new/", {"generated_image": 10**9}).status_code == 404
    assert client.get("/library/shares/new/").status_code == 405
    assert not ShareLink.objects.exists()


# The API
# ------------------------------------------------------------------------------


def test_the_api_creates_lists_and_revokes_links(owner_images):
    owner, image, _ = owner_images
    album = album_of(owner, "Holiday", [LibraryItem.objects.get(generated_image=image)])
    api = APIClient()
    api.force_authenticate(owner)

    created = api.post("/api/v1/library/shares/", {"generated_image": image.id, "expires_in_days": 30}, format="json")
    assert created.status_code == 201, created.json()
    link = created.json()
    assert link["generated_image"] == image.id
    assert link["album"] is None
    assert link["state"] == "active"
    assert link["expires_at"]
    token = link["url"].removeprefix("http://testserver/s/").rstrip("/")
    assert ShareLink.objects.get(id=link["id"]).token == token
    assert Client().get(f"/s/{token}/").status_code == 200

    album_link = api.post("/api/v1/library/shares/", {"album": album.id}, format="json").json()
    assert album_link["album"] == album.id
    assert album_link["expires_at"] is None

    listed = api.get("/api/v1/library/shares/").json()["results"]
    assert [row["id"] for row in listed] == [album_link["id"], link["id"]]
    assert listed[1]["views"] == 1

    revoked = api.post(f"/api/v1/library/shares/{link['id']}/revoke/")
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    assert api.get(f"/api/v1/library/shares/{link['id']}/").json()["state"] == "revoked"
    assert Client().get(f"/s/{token}/").status_code == 404

    for data in (
        {},
        {"generated_image": image.id, "album": album.id},
        {"generated_image": image.id, "expires_in_days": 0},
        {"generated_image": image.id, "expires_in_days": 400},
        {"generated_image": "x"},
    ):
        refused = api.post("/api/v1/library/shares/", data, format="json")
        assert refused.status_code == 400, data
        assert refused.json()["error"]["code"] == "invalid"
    assert APIClient().get("/api/v1/library/shares/").status_code in (401, 403)


# The owner's list of links
# ------------------------------------------------------------------------------


def test_the_links_page_lists_them_with_a_constant_number_of_queries(
    client, owner_images, django_assert_num_queries, run_on_commit
):
    owner, image, sibling = owner_images
    album = album_of(
        owner, "Beach days", [LibraryItem.objects.get(generated_image=image), photo_item(owner, run_on_commit)]
    )
    services.share_create(user=owner, generated_image=image)
    services.share_create(user=owner, album=album)
    client.force_login(owner)
    # Session, user, then the links with their image, generation and album sizes in one query.
    with django_assert_num_queries(3):
        page = client.get("/library/shares/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Album “Beach days” · 2 items" in html
    assert f'href="/generation/images/{image.id}/"' in html

    for _ in range(3):
        services.share_create(user=owner, generated_image=sibling, expires_in_days=7)
        services.share_create(user=owner, album=album)
    revoked = services.share_create(user=owner, generated_image=image)
    services.share_revoke(user=owner, share=revoked)
    with django_assert_num_queries(3):
        page = client.get("/library/shares/")
    assert page.content.decode().count('<tr id="share-') == 9
    assert page.content.decode().count(">Revoke</button>") == 8


def test_through_the_api_an_editor_shares_the_projects_images_and_a_viewer_is_refused(owner_images):
    owner, image, _second = owner_images
    editor, viewer = UserFactory(), UserFactory()
    MembershipFactory(project=image.generation.project, user=editor, role=Role.EDITOR)
    MembershipFactory(project=image.generation.project, user=viewer, role=Role.VIEWER)
    api = APIClient()
    api.force_authenticate(editor)
    assert api.post("/api/v1/library/shares/", {"generated_image": image.id}, format="json").status_code == 201
    api.force_authenticate(viewer)
    refused = api.post("/api/v1/library/shares/", {"generated_image": image.id}, format="json")
    assert refused.status_code == 403
    assert ShareLink.objects.filter(user=viewer).count() == 0
