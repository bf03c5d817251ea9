"""Every URL and every API operation, tried against another user's objects by a second user, an
anonymous visitor and a revoked API token. Generated from the URL conf and from the OpenAPI schema:
a new endpoint whose ids or collection are not mapped here fails the test instead of being forgotten."""

import re

import pytest
from django.urls import URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.tests.factories import UserFactory
from tests.conftest import schema_path_ids, snapshot

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
    "invitations/<str:token>/",
)
# The API's own description, public on purpose; every other API route is an operation in the schema.
API_DOCS = ("api/v1/schema/", "api/v1/docs/", "api/v1/redoc/")
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def all_routes():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    return list(walk(get_resolver().url_patterns))


def website_routes():
    for route in all_routes():
        if PARAMETER.search(route) and not route.startswith(("admin/", "api/", *PUBLIC)):
            yield route


def url_for(route: str, owned: dict) -> str:
    def value(match):
        name = match.group(1)
        if name == "pk":
            return str(owned["pk"][route])
        assert name in owned["ids"], f"{route}: map the id kind {name!r} in core/tests/conftest.py"
        return str(owned["ids"][name])

    return "/" + PARAMETER.sub(value, route)


def test_no_website_url_lets_anyone_else_see_or_change_a_users_objects(owned, client):
    owner = owned["owner"]
    before = snapshot(owner)
    client.force_login(UserFactory())
    anonymous = type(client)()
    checked = 0
    for route in website_routes():
        url = url_for(route, owned)
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"favourite": "1", "name": "x", "title": "x"})
            assert response.status_code in (404, 405), f"{method.upper()} {url} as another user: {response.status_code}"
            response = getattr(anonymous, method)(url)
            # File URLs are API views (bearer tokens work there): they answer 401 rather than redirect.
            assert response.status_code in (302, 401, 405), f"{method.upper()} {url} anonymous: {response.status_code}"
            if response.status_code == 302:
                assert "/accounts/login/" in response["Location"]
            checked += 1
    assert checked > 50
    assert snapshot(owner) == before


# The API, from its OpenAPI schema
# ------------------------------------------------------------------------------

# Operations that name no object in their path: what another user sends (pointing at the owner's
# objects wherever the operation takes ids), and the status that proves nothing of the owner's was
# reached. A 200 list must come back empty: the other user has nothing of their own.
COLLECTIONS = {
    "me_retrieve": ({}, 200),
    "tokens_list": ({}, 200),
    "tokens_create": ({"name": "mine"}, 201),
    "projects_list": ({}, 200),
    "projects_create": ({"name": "Mine", "category": "product"}, 201),
    "trainings_list": ({}, 200),
    "models_list": ({}, 200),
    "generations_list": ({"model": "run_id", "project": "project_id"}, 200),
    "generations_create": ({"model": "run_id", "prompt": "a mug"}, 400),
    "images_list": ({"model": "run_id", "project": "project_id"}, 200),
    "library_search_list": ({"q": "x", "project": "project_id"}, 200),
    "library_shares_list": ({}, 200),
    "library_shares_create": ({"generated_image": "image_id"}, 400),
    "library_albums_list": ({}, 200),
    "library_albums_create": ({"name": "Mine", "items": ["item_id"]}, 400),
    "library_album_suggestions_list": ({}, 200),
    "library_album_suggestions_refresh_create": ({}, 200),
    "library_trash_list": ({}, 200),
    "library_trash_destroy": ({}, 204),  # empties the stranger's own trash only
    "invitations_list": ({}, 200),
    "invitations_accept": ({"invitation": "invitation_id"}, 404),
    "invitations_decline": ({"invitation": "invitation_id"}, 404),
}


def schema_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def resolved(value, owned):
    """Names of id kinds (`"run_id"`) become the owner's ids, also inside lists."""
    if isinstance(value, list):
        return [resolved(item, owned) for item in value]
    return owned["ids"].get(value, value) if isinstance(value, str) else value


def items_of(body):
    return body["results"] if isinstance(body, dict) and "results" in body else body


def test_every_api_route_is_an_operation_in_the_schema():
    """Routes left out of the schema would escape the matrix below (file views are website URLs)."""
    documented = {re.sub(r"\{\w+\}", "{}", path) for path, _, _ in schema_operations()}
    routes = {"/" + PARAMETER.sub("{}", route) for route in all_routes() if route.startswith("api/")}
    assert routes - documented == {"/" + route for route in API_DOCS}


def test_no_api_operation_lets_anyone_else_see_or_change_a_users_objects(owned):
    owner = owned["owner"]
    revoked, revoked_secret = account_services.api_token_create(user=owner, name="old")
    account_services.api_token_revoke(token=revoked)
    before = snapshot(owner)
    stranger = APIClient()
    stranger_user = UserFactory()
    stranger.force_authenticate(stranger_user)
    anonymous = APIClient()
    with_revoked = APIClient(HTTP_AUTHORIZATION=f"Bearer {revoked_secret}")
    collections = set()
    for path, method, operation in schema_operations():
        label = f"{method.upper()} {path} ({operation['operationId']})"
        if "{" in path:
            url = path.format(**schema_path_ids(path, owned))
            data = {"favourite": True, "name": "x", "title": "x", "items": [owned["ids"]["item_id"]]}
            response = getattr(stranger, method)(url, data, format="json")
            assert response.status_code == 404, f"{label} as another user: {response.status_code}"
        else:
            assert operation["operationId"] in COLLECTIONS, f"{label}: add what another user sends to COLLECTIONS"
            collections.add(operation["operationId"])
            url = path
            data, expected = COLLECTIONS[operation["operationId"]]
            data = {key: resolved(value, owned) for key, value in data.items()}
            response = getattr(stranger, method)(url, data, **({"format": "json"} if method != "get" else {}))
            assert response.status_code == expected, f"{label} as another user: {response.status_code}"
            if operation["operationId"] == "me_retrieve":
                assert response.json()["id"] == stranger_user.id
            elif expected == 200:
                assert items_of(response.json()) == [], f"{label} shows another user's objects"
        for who, api in (("anonymous", anonymous), ("revoked token", with_revoked)):
            response = getattr(api, method)(url)
            assert response.status_code == 401, f"{label} {who}: {response.status_code}"
            assert response.json()["error"]["code"] in ("not_authenticated", "authentication_failed")
            assert "401" in operation["responses"], f"{label}: the schema does not document its 401"
    assert collections == set(COLLECTIONS), "COLLECTIONS names operations the schema no longer has"
    assert snapshot(owner) == before
