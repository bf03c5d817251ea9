"""Every URL refuses a POST that lacks the CSRF token, for a logged-in user, and changes nothing.
Generated from the URL conf (the admin and the API included): the only exceptions are the provider
webhooks, which carry a signature instead."""

import re

import pytest
from django.test import Client

from tests.conftest import snapshot
from tests.test_access_matrix import API_DOCS, PARAMETER, all_routes

pytestmark = pytest.mark.django_db

WEBHOOKS = {"training/webhooks/replicate/<id:run_id>/", "generation/webhooks/replicate/<id:generation_id>/"}
# The API's catch-all answers every path no route takes with a 404 and changes nothing.
API_NOT_FOUND = "^api(?:/|$)"
# Parameters that name no object of the owner's: any value that matches the route will do, since
# the CSRF check runs before the view.
OTHER_VALUES = {
    "app_label": "accounts",
    "url": "unknown/",
    "object_id": "1",
    "content_type_id": "1",
    "token": "x",
    "uidb64": "x",
    "id": "1",
}
REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def concrete_url(route: str, owned: dict) -> str:
    def value(match):
        name = match.group(1)
        if name == "pk":
            return str(owned["pk"][route])
        if name in owned["ids"]:
            return str(owned["ids"][name])
        assert name in OTHER_VALUES, f"{route}: give the parameter {name!r} a value in this test"
        return OTHER_VALUES[name]

    path = REGEX_GROUP.sub(lambda match: f"<{match.group(1)}>", route.replace("^", "").replace("$", ""))
    return "/" + PARAMETER.sub(value, path)


def test_every_post_without_a_csrf_token_is_refused_and_changes_nothing(owned):
    owner = owned["owner"]
    before = snapshot(owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    ids = owned["ids"]
    # What each form would change, were the request let through.
    data = {"name": "forged", "display_name": "forged", "title": "forged", "favourite": "1", "description": "forged"}
    data |= {"items": ids["item_id"], "images": ids["image_id"], "generated_image": ids["image_id"], "action": "delete"}
    let_through = set()
    for route in all_routes():
        url = concrete_url(route, owned)
        response = client.post(url, data)
        if response.status_code != 403:
            let_through.add(route)
            continue
        # The docs pages render DRF's refusal as a bare "403 Forbidden" page.
        assert b"CSRF" in response.content or route in API_DOCS, f"POST {url}: a 403, but not the CSRF check's"
    assert let_through == WEBHOOKS | {API_NOT_FOUND}
    assert client.get("/projects/").status_code == 200, "a forged log-out went through"
    assert snapshot(owner) == before


def test_the_same_posts_with_the_token_are_let_through(owned):
    """The refusals above are the missing token's doing, not the routes refusing every POST."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(owned["owner"])
    client.get("/accounts/settings/")
    token = client.cookies["csrftoken"].value
    response = client.post("/accounts/settings/", {"display_name": "Ada", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    album = owned["ids"]["album_id"]
    response = client.post(f"/api/v1/library/albums/{album}/", {"name": "Ada"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 405
