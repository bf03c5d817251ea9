"""Every URL and every API operation, tried against another user's objects by a second user, an
anonymous visitor and a revoked API token. Generated from the URL conf and from the OpenAPI schema:
a new endpoint whose ids or collection are not mapped here fails the test instead of being forgotten."""

import re

import pytest
from django.urls import URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.tests.factories import UserFactory
from projects.access import CAPABILITIES, Can
from projects.models import Role
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
        url = role_url_for(route, owned)
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


# Roles: the owner, an editor and a viewer of the owned project
# ------------------------------------------------------------------------------

ROLES = (Role.OWNER, Role.EDITOR, Role.VIEWER)
SELF = "self"  # the user's own things (tokens, albums, shares, suggestions, their trash and lists)
INVITED = "invited"  # only the invited address may answer: none of the roles here is invited
GET, POST, PATCH, DELETE = "GET", "POST", "PATCH", "DELETE"

# What each route needs, by URL name and method: a projects.access capability, SELF or INVITED.
# Website routes are those with parameters (tried with GET and POST); a method not listed must be
# answered 405. API routes are every operation of the schema. A route or method missing here fails.
NEEDS: dict[tuple[str, str], Can | str] = {
    # website
    ("accounts:api_token_revoke", POST): SELF,
    ("projects:detail", GET): Can.VIEW,
    ("projects:live", GET): Can.VIEW,
    ("projects:activity", GET): Can.VIEW,
    ("projects:edit", GET): Can.MANAGE,
    ("projects:edit", POST): Can.MANAGE,
    ("projects:delete", GET): Can.MANAGE,
    ("projects:delete", POST): Can.MANAGE,
    ("projects:photo_upload", POST): Can.EDIT,
    ("projects:photo_describe", POST): Can.EDIT,
    ("projects:photo_delete", POST): Can.EDIT,
    ("projects:photo_file", GET): Can.VIEW,
    ("projects:members", GET): Can.VIEW,
    ("projects:members", POST): Can.MANAGE,
    ("projects:member_leave", POST): Can.VIEW,
    ("projects:member_transfer", POST): Can.MANAGE,
    ("projects:member_role", POST): Can.MANAGE,
    ("projects:member_remove", POST): Can.MANAGE,
    ("projects:invitation_resend", POST): Can.MANAGE,
    ("projects:invitation_revoke", POST): Can.MANAGE,
    ("invitation_accept", POST): INVITED,
    ("invitation_decline", POST): INVITED,
    ("training:start", POST): Can.TRAIN,
    ("training:run", GET): Can.VIEW,
    ("training:live", GET): Can.VIEW,
    ("training:cancel", POST): Can.TRAIN,
    ("training:retry", POST): Can.TRAIN,
    ("training:lora", GET): Can.GENERATE,
    ("generation:job", GET): Can.VIEW,
    ("generation:live", GET): Can.VIEW,
    ("generation:cancel", POST): Can.MANAGE,  # its starter or the project's owner: here the owner started it
    ("generation:image", GET): Can.VIEW,
    ("generation:download", GET): Can.VIEW,
    ("generation:favourite", POST): Can.EDIT,
    ("generation:delete", POST): Can.EDIT,
    ("generation:image_file", GET): Can.VIEW,
    ("library:item", GET): Can.VIEW,
    ("library:item_inspire", GET): Can.VIEW,
    ("library:item_add_to_album", POST): Can.EDIT,
    ("library:share_revoke", POST): SELF,
    ("library:album", GET): SELF,
    ("library:album_rename", POST): SELF,
    ("library:album_cover", POST): SELF,
    ("library:album_remove", POST): SELF,
    ("library:album_delete", POST): SELF,
    ("library:suggestion_accept", POST): SELF,
    ("library:suggestion_dismiss", POST): SELF,
    ("library:trash_restore_photos", POST): Can.EDIT,
    ("library:trash_delete_photos", GET): Can.EDIT,
    ("library:trash_delete_photos", POST): Can.EDIT,
    ("library:trash_restore_images", POST): Can.EDIT,
    ("library:trash_delete_images", GET): Can.EDIT,
    ("library:trash_delete_images", POST): Can.EDIT,
    # API
    ("api:me", GET): SELF,
    ("api:token-list", GET): SELF,
    ("api:token-list", POST): SELF,
    ("api:token-detail", GET): SELF,
    ("api:token-detail", DELETE): SELF,
    ("api:project-list", GET): SELF,
    ("api:project-list", POST): SELF,
    ("api:project-detail", GET): Can.VIEW,
    ("api:project-activity", GET): Can.VIEW,
    ("api:project-detail", PATCH): Can.MANAGE,
    ("api:project-detail", DELETE): Can.MANAGE,
    ("api:photo-list", GET): Can.VIEW,
    ("api:photo-list", POST): Can.EDIT,
    ("api:photo-detail", GET): Can.VIEW,
    ("api:photo-detail", PATCH): Can.EDIT,
    ("api:photo-detail", DELETE): Can.EDIT,
    ("api:member-list", GET): Can.VIEW,
    ("api:member-detail", PATCH): Can.MANAGE,
    ("api:member-detail", DELETE): Can.MANAGE,
    ("api:project-invitation-list", GET): Can.MANAGE,
    ("api:project-invitation-list", POST): Can.MANAGE,
    ("api:project-invitation-detail", DELETE): Can.MANAGE,
    ("api:project-invitation-resend", POST): Can.MANAGE,
    ("api:project-transfer", POST): Can.MANAGE,
    ("api:invitation-list", GET): SELF,
    ("api:invitation-accept", POST): INVITED,
    ("api:invitation-decline", POST): INVITED,
    ("api:training-start", POST): Can.TRAIN,
    ("api:training-list", GET): SELF,
    ("api:training-detail", GET): Can.VIEW,
    ("api:training-cancel", POST): Can.TRAIN,
    ("api:model-list", GET): SELF,
    ("api:generation-list", GET): Can.VIEW,  # of the owned project's model (COLLECTIONS' filters)
    ("api:generation-list", POST): Can.GENERATE,  # with the owned project's model
    ("api:generation-detail", GET): Can.VIEW,
    ("api:generation-cancel", POST): Can.MANAGE,  # its starter or the project's owner, as on the website
    ("api:image-list", GET): Can.VIEW,
    ("api:image-detail", GET): Can.VIEW,
    ("api:image-detail", PATCH): Can.EDIT,
    ("api:image-detail", DELETE): Can.EDIT,
    ("api:library-search", GET): Can.VIEW,
    ("api:library-item", GET): Can.VIEW,
    ("api:library-similar", GET): Can.VIEW,
    ("api:library-share-list", GET): SELF,
    ("api:library-share-list", POST): Can.EDIT,  # a link to an image of the project
    ("api:library-share-detail", GET): SELF,
    ("api:library-share-revoke", POST): SELF,
    ("api:library-albums", GET): SELF,
    ("api:library-albums", POST): Can.EDIT,  # with an item of the project in it
    ("api:library-album", GET): SELF,
    ("api:library-album", PATCH): SELF,
    ("api:library-album", DELETE): SELF,
    ("api:library-album-items", GET): SELF,
    ("api:library-album-items", POST): SELF,
    ("api:library-album-items-remove", POST): SELF,
    ("api:library-album-suggestions", GET): SELF,
    ("api:library-album-suggestions-refresh", POST): SELF,
    ("api:library-album-suggestion-accept", POST): SELF,
    ("api:library-album-suggestion-dismiss", POST): SELF,
    ("api:library-trash", GET): SELF,
    ("api:library-trash", DELETE): SELF,
    ("api:library-trash-photos", DELETE): Can.EDIT,
    ("api:library-trash-photos-restore", POST): Can.EDIT,
    ("api:library-trash-images", DELETE): Can.EDIT,
    ("api:library-trash-images-restore", POST): Can.EDIT,
}

# Writes that take away what the checks after them need (the project, a membership, the album, the
# suggestion, the trashed photo or image, access itself). They are tried only by the roles that must be
# refused; allowed, they are the subject of their apps' own tests (deleting, leaving, transferring,
# the trash, albums), not executed here, so one fixture serves every route of a role.
DESTRUCTIVE = {
    ("projects:delete", POST),
    ("projects:photo_delete", POST),
    ("projects:member_leave", POST),
    ("projects:member_transfer", POST),
    ("projects:member_remove", POST),
    ("projects:invitation_revoke", POST),
    ("generation:delete", POST),
    ("library:album_delete", POST),
    ("library:suggestion_accept", POST),
    ("library:suggestion_dismiss", POST),
    ("library:trash_restore_photos", POST),
    ("library:trash_delete_photos", POST),
    ("library:trash_restore_images", POST),
    ("library:trash_delete_images", POST),
    ("api:project-detail", DELETE),
    ("api:photo-detail", DELETE),
    ("api:member-detail", DELETE),
    ("api:project-invitation-detail", DELETE),
    ("api:project-transfer", POST),
    ("api:image-detail", DELETE),
    ("api:library-album", DELETE),
    ("api:library-album-suggestion-accept", POST),
    ("api:library-album-suggestion-dismiss", POST),
    ("api:library-trash", DELETE),
    ("api:library-trash-photos", DELETE),
    ("api:library-trash-photos-restore", POST),
    ("api:library-trash-images", DELETE),
    ("api:library-trash-images-restore", POST),
}

# Where the design answers a refused role 404 instead of 403. Another user's own things are 404 for
# everyone (SELF, INVITED). Besides:
NOT_FOUND_INSTEAD = {
    # Who cannot restore a photo or an image does not see the trash: a viewer finds nothing there.
    ("library:trash_restore_photos", POST),
    ("library:trash_delete_photos", GET),
    ("library:trash_delete_photos", POST),
    ("library:trash_restore_images", POST),
    ("library:trash_delete_images", GET),
    ("library:trash_delete_images", POST),
    ("api:library-trash-photos", DELETE),
    ("api:library-trash-photos-restore", POST),
    ("api:library-trash-images", DELETE),
    ("api:library-trash-images-restore", POST),
}


def allowed(role: str, need: Can | str, *, names_an_object: bool) -> bool:
    """Whether the role may do what the route needs, from projects.access.CAPABILITIES. SELF on a
    route naming an object: the object is the owner's. SELF on a collection: the role's own."""
    if need == SELF:
        return role == Role.OWNER or not names_an_object
    if need == INVITED:
        return False
    return need in CAPABILITIES[role]


def refusal(key: tuple[str, str], need: Can | str) -> int:
    return 404 if need in (SELF, INVITED) or key in NOT_FOUND_INSTEAD else 403


def need_of(key: tuple[str, str]) -> Can | str:
    assert key in NEEDS, f"{key[1]} {key[0]}: map the capability it needs in NEEDS (tests/test_access_matrix.py)"
    return NEEDS[key]


def named_routes() -> dict[str, str]:
    """Each route of the URL conf and its namespaced name."""

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            else:
                yield prefix + str(pattern.pattern), f"{namespace}{pattern.name}"

    return dict(walk(get_resolver().url_patterns))


def role_url_for(route: str, owned: dict) -> str:
    """url_for, with the trash's routes pointing at what is in the trash."""
    if route.startswith("library/trash/"):
        owned = {**owned, "ids": {**owned["ids"], **owned["trashed"]}}
    return url_for(route, owned)


@pytest.mark.parametrize("role", ROLES)
def test_every_website_url_gives_each_role_what_its_capabilities_allow(owned, client, role):
    owner = owned["owner"]
    client.force_login(owned[role])
    names = named_routes()
    checked = set()
    for route in website_routes():
        url = role_url_for(route, owned)
        assert (names[route], GET) in NEEDS or (names[route], POST) in NEEDS, (
            f"{route} ({names[route]}): map what its GET and POST need in NEEDS (tests/test_access_matrix.py)"
        )
        for method in (GET, POST):
            key = (names[route], method)
            label = f"{method} {url} ({key[0]}) as {role}"
            if key not in NEEDS:
                response = getattr(client, method.lower())(url)
                assert response.status_code == 405, f"{label}: {response.status_code}; map what it needs in NEEDS"
                continue
            checked.add(key)
            need = NEEDS[key]
            may = allowed(role, need, names_an_object=True)
            if may and key in DESTRUCTIVE:
                continue
            before = snapshot(owner)
            response = getattr(client, method.lower())(url, {"favourite": "1", "name": "x", "title": "x"})
            if not may:
                assert response.status_code == refusal(key, need), f"{label} must be refused: {response.status_code}"
                assert snapshot(owner) == before, f"{label} was refused but changed something"
            elif method == GET:
                assert response.status_code in (200, 302), f"{label} must be allowed: {response.status_code}"
            else:
                assert response.status_code not in (403, 404, 405), f"{label} must be allowed: {response.status_code}"
            if response.status_code == 302:
                assert "/accounts/login/" not in response["Location"], label
    website = {key for key in NEEDS if not key[0].startswith("api:")}
    assert website - checked == set(), "NEEDS names website routes the URL conf no longer has"


@pytest.mark.parametrize("role", ROLES)
def test_every_api_operation_gives_each_role_what_its_capabilities_allow(owned, role):
    owner = owned["owner"]
    api = APIClient()
    api.force_authenticate(owned[role])
    checked = set()
    for path, method, operation in schema_operations():
        if "{" in path:
            url = path.format(**schema_path_ids(path, owned))
            data = {"favourite": True, "name": "x", "title": "x", "items": [owned["ids"]["item_id"]]}
            options = {"format": "json"}
        else:
            url = path
            data, _status = COLLECTIONS[operation["operationId"]]
            data = {key: resolved(value, owned) for key, value in data.items()}
            options = {"format": "json"} if method != "get" else {}
        match = resolve(url)
        key = (f"{match.namespace}:{match.url_name}", method.upper())
        label = f"{method.upper()} {url} ({operation['operationId']}) as {role}"
        need = need_of(key)
        checked.add(key)
        may = allowed(role, need, names_an_object="{" in path)
        if may and key in DESTRUCTIVE:
            continue
        before = snapshot(owner)
        response = getattr(api, method)(url, data, **options)
        if not may:
            assert response.status_code == refusal(key, need), f"{label} must be refused: {response.status_code}"
            assert snapshot(owner) == before, f"{label} was refused but changed something"
        elif method == "get":
            assert response.status_code == 200, f"{label} must be allowed: {response.status_code}"
        elif "{" not in path:
            # COLLECTIONS' bodies are real requests: an allowed role's succeeds, and a 400 would hide a refusal.
            assert response.status_code < 300, f"{label} must succeed: {response.status_code} {response.content[:300]}"
        else:
            assert response.status_code not in (403, 404, 405), f"{label} must be allowed: {response.status_code}"
    api_keys = {key for key in NEEDS if key[0].startswith("api:")}
    assert api_keys - checked == set(), "NEEDS names API operations the schema no longer has"


# The admin
# ------------------------------------------------------------------------------

ADMIN_PARAMETERS = {"app_label": "projects", "object_id": "1", "content_type_id": "1", "id": "1", "url": "x/"}


@pytest.mark.parametrize("role", ROLES)
def test_no_admin_url_opens_for_a_member_who_is_not_staff(owned, client, role):
    client.force_login(owned[role])
    checked = 0
    for route in all_routes():
        if not route.startswith("admin/") or route in ("admin/login/", "admin/logout/"):
            continue
        url = "/" + PARAMETER.sub(lambda match: ADMIN_PARAMETERS[match.group(1)], route)
        url = url.replace("<path:object_id>", "1")
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, f"{method.upper()} {url} as a {role}: {response.status_code}"
            assert response["Location"].startswith("/admin/login/"), f"{method.upper()} {url}: {response['Location']}"
            checked += 1
    assert checked > 100
