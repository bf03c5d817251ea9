"""What browsers and shared caches (proxies, CDNs) may keep: nothing of one user's in a shared
cache, no copy at all of a page showing a secret. Every URL of the URL conf is opened by its owner."""

import re

import pytest
from rest_framework.test import APIClient

from tests.test_access_matrix import all_routes

pytestmark = pytest.mark.django_db

PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
# Parameters that are not ids of the owner's objects: any value reaches the view.
OTHER_PARAMETERS = {"token": "not-a-token", "uidb64": "x", "variant": "thumbnail"}
# Pages and answers that show a secret: a new API token, share links.
SECRET_PAGES = {
    "accounts/settings/",
    "library/shares/",
    "api/v1/tokens",
    "api/v1/library/shares/",
    "api/v1/library/shares/<id:share_id>/",
}


def url_for(route: str, owned: dict) -> str:
    def value(match):
        name = match.group(1)
        if name == "pk":
            return str(owned["pk"][route])
        return str(owned["ids"].get(name, OTHER_PARAMETERS.get(name, "1")))

    return "/" + PARAMETER.sub(value, route)


def test_every_answer_to_a_logged_in_user_is_private_and_secrets_are_never_stored(owned, client):
    client.force_login(owned["owner"])
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {owned['secret']}")
    checked = 0
    for route in all_routes():
        if route.startswith("admin/"):
            continue  # Django's admin marks its own pages never_cache
        url = url_for(route, owned)
        for response in (client.get(url), api.get(url)) if route.startswith("api/") else (client.get(url),):
            cache_control = response.get("Cache-Control", "")
            assert "private" in cache_control or "no-store" in cache_control, f"GET {url}: {cache_control!r}"
            if route in SECRET_PAGES and response.status_code == 200:
                assert "no-store" in cache_control, f"GET {url} shows a secret: {cache_control!r}"
            if not route.startswith("api/") and response.get("Content-Type", "").startswith("text/html"):
                # Pages are asked for again each time: Back after logging out shows nothing stale.
                assert "no-cache" in cache_control or "no-store" in cache_control, f"GET {url}: {cache_control!r}"
            checked += 1
    assert checked > 60


def test_the_new_api_token_is_never_stored(owned, client):
    client.force_login(owned["owner"])
    created = client.post("/accounts/settings/tokens/", {"name": "web", "expires_in": "30"}, follow=True)
    assert b"pat_" in created.content
    assert "no-store" in created["Cache-Control"]
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {owned['secret']}")
    response = api.post("/api/v1/tokens", {"name": "api"}, format="json")
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]


def test_public_pages_and_static_files_keep_their_own_rules(owned, client):
    from library.models import ShareLink
    from library.selectors import share_url

    anonymous_page = client.get("/")
    assert "private" not in anonymous_page.get("Cache-Control", "")
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    assert "private" not in static.get("Cache-Control", "")
    share = ShareLink.objects.get()
    assert client.get(share_url(share=share))["Cache-Control"] == "no-store"
    client.force_login(owned["owner"])
    assert client.get(share_url(share=share))["Cache-Control"] == "no-store", "the owner opening it: the same"
