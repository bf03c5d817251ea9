"""Every URL that names an object, tried against another user's objects by a second user, an
anonymous visitor and a revoked API token. Generated from the URL conf: a new endpoint whose id
kind is not mapped here fails the test instead of being forgotten."""

import re

import pytest
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.tests.factories import UserFactory
from generation import services as generation_services
from generation.models import GeneratedImage, Generation
from generation.tests.factories import trained_model
from library import services as library_services
from library.models import AlbumSuggestion, LibraryItem, ShareLink
from projects.models import Photo

pytestmark = pytest.mark.django_db

# Reached without an account by design, each protected otherwise (signatures, signed or random tokens)
# and tested on its own.
PUBLIC = (
    "accounts/verify/",
    "accounts/password/reset/",
    "generation/loras/",
    "s/",
    "training/webhooks/",
    "generation/webhooks/",
)
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def routes():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    for route in walk(get_resolver().url_patterns):
        if PARAMETER.search(route) and not route.startswith(("admin/", *PUBLIC)):
            yield route


@pytest.fixture
def owned(settings, run_on_commit):
    """One of everything, owned by one user."""
    settings.PHOTO_MIN_SIDE = 256
    settings.GENERATION_BACKEND = settings.GENERATION_BASE_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.DEMO_GENERATION_SECONDS = 0
    run = trained_model(photos=["coffee.jpg", "astronaut.jpg"])
    owner = run.project.owner
    with run_on_commit():
        generation = generation_services.generation_create(user=owner, training_run=run, prompt="x", num_outputs=2)
    image = generation.images.order_by("index").first()
    items = list(LibraryItem.objects.filter(user=owner).order_by("id"))
    album = library_services.album_create(user=owner, name="Trip", item_ids=[item.id for item in items[:2]])
    suggestion = AlbumSuggestion.objects.create(user=owner, title="Mugs", key="k1")
    suggestion.items.set(items[:2])
    share = library_services.share_create(user=owner, generated_image=image)
    token, _ = account_services.api_token_create(user=owner, name="cli")
    photo = Photo.objects.filter(project=run.project).first()
    return {
        "owner": owner,
        "ids": {
            "project_id": run.project_id,
            "project_pk": run.project_id,
            "photo_id": photo.id,
            "run_id": run.id,
            "generation_id": generation.id,
            "image_id": image.id,
            "item_id": items[0].id,
            "album_id": album.id,
            "suggestion_id": suggestion.id,
            "share_id": share.id,
            "token_id": token.id,
            "variant": "thumbnail",
        },
        "pk": {
            "api/v1/projects/<int:pk>/": run.project_id,
            "api/v1/projects/<int:project_pk>/photos/<int:pk>/": photo.id,
        },
    }


def url_for(route: str, owned: dict) -> str:
    def value(match):
        name = match.group(1)
        if name == "pk":
            return str(owned["pk"][route])
        assert name in owned["ids"], f"{route}: map the id kind {name!r} in this test"
        return str(owned["ids"][name])

    return "/" + PARAMETER.sub(value, route)


def snapshot(owner) -> dict:
    return {
        "photos": Photo.objects.filter(project__owner=owner).count(),
        "generations": list(Generation.objects.filter(user=owner).values_list("status", flat=True)),
        "images": list(GeneratedImage.objects.filter(generation__user=owner).values_list("id", "favourite")),
        "items": LibraryItem.objects.filter(user=owner).count(),
        "albums": list(owner.albums.values_list("name", "cover_id")),
        "suggestions": list(AlbumSuggestion.objects.filter(user=owner).values_list("status", flat=True)),
        "shares": list(ShareLink.objects.filter(user=owner).values_list("revoked_at", flat=True)),
        "tokens": list(owner.api_tokens.values_list("revoked_at", flat=True)),
    }


def test_no_url_lets_anyone_else_see_or_change_a_users_objects(owned, client):
    owner = owned["owner"]
    revoked, revoked_secret = account_services.api_token_create(user=owner, name="old")
    account_services.api_token_revoke(token=revoked)
    before = snapshot(owner)
    stranger = UserFactory()
    client.force_login(stranger)
    api = APIClient()
    api.force_authenticate(stranger)
    anonymous = APIClient()
    with_revoked = APIClient(HTTP_AUTHORIZATION=f"Bearer {revoked_secret}")
    checked = 0
    for route in routes():
        url = url_for(route, owned)
        is_api = route.startswith("api/")
        for method in ("get", "post", "patch", "delete") if is_api else ("get", "post"):
            if is_api:
                response = getattr(api, method)(url, {"favourite": True, "name": "x"}, format="json")
            else:
                response = getattr(client, method)(url, {"favourite": "1", "name": "x", "title": "x"})
            assert response.status_code in (404, 405), f"{method.upper()} {url} as another user: {response.status_code}"
            response = getattr(anonymous, method)(url)
            # File URLs are API views (bearer tokens work there): they answer 401 rather than redirect.
            expected = (401, 403, 405) if is_api else (302, 401, 405)
            assert response.status_code in expected, f"{method.upper()} {url} anonymous: {response.status_code}"
            if response.status_code == 302:
                assert "/accounts/login/" in response["Location"]
            if is_api:
                response = getattr(with_revoked, method)(url)
                assert response.status_code in (401, 405), (
                    f"{method.upper()} {url} revoked token: {response.status_code}"
                )
            checked += 1
    assert checked > 100
    assert snapshot(owner) == before
