"""The API's conventions, as rules over every route and operation rather than examples: every path
ends in a slash and the slash-less spelling answers the same; every error, whatever the method,
path or DEBUG setting, is the documented {"error": {...}} body and never a 5xx or a redirect."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import JsonResponse
from django.urls import path as url_pattern
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from photoagent import urls as project_urls
from projects.tests.factories import encode, scene
from tests.conftest import schema_path_ids
from tests.test_access_matrix import PARAMETER, all_routes

pytestmark = pytest.mark.django_db

METHODS = ("get", "head", "options", "post", "put", "patch", "delete")
SAFE = ("get", "head", "options")
# No object has it (ids are auto-increments far below), and it fits the route's 18 digits.
MISSING_ID = str(10**17)
OVERLONG_ID = "1" * 19
API_ROUTES = [route for route in all_routes() if route.startswith("api/")]


def fill(route: str, value) -> str:
    return "/" + PARAMETER.sub(lambda match: str(value(match.group(1))), route)


def owned_url(route: str, owned: dict) -> str:
    return fill(route, lambda name: owned["pk"][route] if name == "pk" else owned["ids"][name])


def call(client, method: str, url: str):
    # A body an unsafe method can carry that changes nothing anywhere: refused (400) or on a missing id.
    if method in SAFE:
        return getattr(client, method)(url)
    return getattr(client, method)(url, {}, format="json")


def assert_api_answer(response, label: str):
    assert response.status_code < 500, f"{label}: {response.status_code}"
    assert not 300 <= response.status_code < 400, f"{label}: redirected to {response.get('Location')}"
    if response.status_code >= 400 and response.request["REQUEST_METHOD"] != "HEAD":
        assert response["Content-Type"].startswith("application/json"), f"{label}: {response['Content-Type']}"
        body = response.json()
        assert set(body) == {"error"}, f"{label}: {body}"
        assert {"code", "message", "details"} <= set(body["error"]), f"{label}: {body}"


def test_every_api_route_ends_in_a_slash():
    assert len(API_ROUTES) > 30
    assert [route for route in API_ROUTES if not route.endswith("/")] == []


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_every_api_route_answers_the_same_without_its_slash_and_only_json_errors(owned, settings, debug):
    settings.DEBUG = debug
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {owned['secret']}")
    for route in API_ROUTES:
        for method in METHODS:
            # The owner's own objects for reads; a missing id for writes, so the walk changes nothing.
            url = owned_url(route, owned) if method in SAFE else fill(route, lambda name: MISSING_ID)
            label = f"{method.upper()} {url}"
            canonical = call(api, method, url)
            assert_api_answer(canonical, label)
            slashless = call(api, method, url.rstrip("/"))
            assert_api_answer(slashless, label + " without its slash")
            assert slashless.status_code == canonical.status_code, f"{label} without its slash"
            if method == "get" and canonical["Content-Type"].startswith("application/json"):
                assert slashless.json() == canonical.json(), f"{label} without its slash"


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_an_overlong_id_or_an_unknown_path_is_a_json_404_for_every_method(owned, settings, debug):
    settings.DEBUG = debug
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {owned['secret']}")
    unknown = ["/api", "/api/", "/api/v1", "/api/v1/", "/api/v2/me/", "/api/v1/no-such-thing", "/api/v1/no-such-thing/"]
    overlong = [fill(route, lambda name: OVERLONG_ID) for route in API_ROUTES if PARAMETER.search(route)]
    assert overlong
    for url in unknown + overlong + [url.rstrip("/") for url in overlong]:
        for method in METHODS:
            response = call(api, method, url)
            assert_api_answer(response, f"{method.upper()} {url}")
            assert response.status_code == 404, f"{method.upper()} {url}: {response.status_code}"


def test_old_slashless_clients_keep_working_with_their_bodies(owned):
    """POST without the slash used to be a 500 in DEBUG and a redirect (dropping the body) otherwise."""
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {owned['secret']}")
    assert api.get("/api/v1/me").json()["email"] == owned["owner"].email
    created = api.post("/api/v1/tokens", {"name": "old client"}, format="json")
    assert created.status_code == 201
    assert created.json()["name"] == "old client"
    generation = api.post("/api/v1/generations", {"prompt": "a mug on a table"}, format="json")
    assert generation.status_code == 201, generation.json()
    assert generation.json()["prompt"].endswith("a mug on a table")
    listed = api.get("/api/v1/generations?page_size=1").json()
    assert listed["next"].startswith("http://testserver/api/v1/generations/?")


# Query-string filters, from the OpenAPI schema
# ------------------------------------------------------------------------------

# Parameters whose every value is usable, so none can be refused.
FREE_TEXT = set()
REQUIRED_VALUE = {"q": "mug"}


def bad_values(parameter: dict) -> list[str]:
    """Values the schema says are not acceptable for this parameter."""
    schema = parameter["schema"]
    if "enum" in schema:
        return ["AAA"]
    if schema["type"] == "integer":
        values = ["null", "1.5", "-"]
        if "minimum" in schema:
            values.append(str(schema["minimum"] - 1))
        if "maximum" in schema:
            values.append(str(schema["maximum"] + 1))
        return values
    if schema["type"] == "boolean":
        return ["4667", "null"]
    if schema.get("format") == "date":
        return ["2024-02-30", "yesterday"]
    if schema.get("pattern") == r"\S":
        return ["   "]
    assert parameter["name"] in FREE_TEXT, f"{parameter['name']}: say which values are refused, or list it as free"
    return []


def list_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, methods in schema["paths"].items():
        operation = methods.get("get")
        query = [parameter for parameter in (operation or {}).get("parameters", []) if parameter["in"] == "query"]
        if query:
            yield path, query


def test_every_documented_filter_refuses_a_bad_value_naming_the_parameter(owned):
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {owned['secret']}")
    checked = set()
    for path, parameters in list_operations():
        url = path.format(**schema_path_ids(path, owned))
        required = {p["name"]: REQUIRED_VALUE[p["name"]] for p in parameters if p.get("required")}
        assert api.get(url, required).status_code == 200, url
        for parameter in parameters:
            for value in bad_values(parameter):
                response = api.get(url, {**required, parameter["name"]: value})
                label = f"GET {url}?{parameter['name']}={value}"
                assert response.status_code == 400, f"{label}: {response.status_code}"
                assert parameter["name"] in response.json()["error"]["details"], f"{label}: {response.json()}"
                checked.add(parameter["name"])
    assert {"page", "page_size", "sort", "favourite", "favourites", "model", "project", "kind", "since", "q"} <= checked


def test_filters_take_the_values_they_document(owned):
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {owned['secret']}")
    ids = owned["ids"]
    assert api.get("/api/v1/images/", {"sort": "likeness", "favourite": "true"}).status_code == 200
    assert api.get("/api/v1/images/", {"model": ids["run_id"], "favourite": "false"}).json()["count"] == 2
    assert api.get("/api/v1/images/", {"favourite": "true"}).json()["count"] == 0
    # An empty value is a field left untouched in a form: the same as leaving the parameter out.
    assert api.get("/api/v1/images/", {"model": "", "sort": "", "page_size": ""}).json()["count"] == 2
    assert len(api.get("/api/v1/images/", {"page_size": 1}).json()["results"]) == 1
    assert api.get("/api/v1/images/", {"page": 99}).status_code == 404  # past the last page, as documented
    searched = api.get("/api/v1/library/search/", {"q": "mug", "since": "2000-01-01", "kind": "photo"})
    assert searched.status_code == 200


def test_the_schema_documents_the_limits_of_page_size_and_of_album_item_lists():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/images/"]["get"]["parameters"]}
    assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert parameters["page"]["minimum"] == 1
    album_items = schema["components"]["schemas"]["AlbumItemsRequest"]["properties"]["items"]
    assert album_items["minItems"] == 1


def test_album_item_changes_refuse_an_empty_list(owned):
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {owned['secret']}")
    album = owned["ids"]["album_id"]
    for url in (f"/api/v1/library/albums/{album}/items/", f"/api/v1/library/albums/{album}/items/remove/"):
        response = api.post(url, {"items": []}, format="json")
        assert response.status_code == 400
        assert re.search("may not be empty", str(response.json()["error"]["details"]["items"]))


# Bodies Django refuses to read
# ------------------------------------------------------------------------------


def plain_form_view(request):
    """A view under /api/ that is not DRF's: Django itself reads the body."""
    return JsonResponse({"fields": len(request.POST)})


urlpatterns = [url_pattern("api/v1/plain-form/", csrf_exempt(plain_form_view)), *project_urls.urlpatterns]
handler400, handler404, handler500 = project_urls.handler400, project_urls.handler404, project_urls.handler500


def refusals(owned) -> dict:
    project, photo = owned["ids"]["project_id"], owned["ids"]["photo_id"]
    photos, one_photo = f"/api/v1/projects/{project}/photos/", f"/api/v1/projects/{project}/photos/{photo}/"
    many_files = {"files": [SimpleUploadedFile(f"{index}.jpg", b"x") for index in range(201)]}
    three_mb = {"description": "x" * 3_000_000}
    many_fields = "&".join(f"field{index}=1" for index in range(1001))
    form = "application/x-www-form-urlencoded"
    return {
        "201 files": (lambda api: api.post(photos, many_files, format="multipart"), 413, "too_many_files"),
        "3 MB multipart PATCH": (lambda api: api.patch(one_photo, three_mb, format="multipart"), 413, "too_large"),
        "3 MB JSON PATCH": (lambda api: api.patch(one_photo, three_mb, format="json"), 413, "too_large"),
        "1,001 form fields": (
            lambda api: api.post("/api/v1/tokens/", many_fields, content_type=form),
            413,
            "too_many_fields",
        ),
        "outside DRF: 201 files": (lambda api: api.post("/api/v1/plain-form/", many_files), 413, "too_many_files"),
        "outside DRF: 3 MB": (lambda api: api.post("/api/v1/plain-form/", three_mb), 413, "too_large"),
    }


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_a_body_too_big_or_with_too_many_files_is_a_json_413(owned, settings, debug):
    settings.DEBUG = debug
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {owned['secret']}")
    for label, (send, status, code) in refusals(owned).items():
        response = send(api)
        assert_api_answer(response, label)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), label
    assert api.post("/api/v1/plain-form/", {"a": "1"}).json() == {"fields": 1}


def multipart(name: str, content: bytes) -> tuple[bytes, str]:
    """A body as a browser or curl sends it: the test client would cut the file name to 255 characters."""
    boundary = "----boundary7MA4YWxkTrZu0gW"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
    head += "Content-Type: image/jpeg\r\n\r\n"
    body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize(
    ("name", "status"),
    [("a" * 200 + ".jpg", 201), ("a" * 1000 + ".jpg", 400), ("é" * 1000 + ".jpg", 400), ("a." + "b" * 250, 201)],
    ids=["200 chars", "1,000 chars", "1,000 non-ASCII", "250-character extension"],
)
def test_a_file_name_too_long_to_read_is_a_json_400_saying_so(owned, settings, debug, name, status):
    settings.DEBUG = debug
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {owned['secret']}")
    photo = encode(scene(5, size=(600, 500)), "JPEG")
    url = f"/api/v1/projects/{owned['ids']['project_id']}/photos/"
    # Held in memory, then past FILE_UPLOAD_MAX_MEMORY_SIZE, in a temporary file named after it.
    for content in (photo, photo + b"\0" * 6_000_000):
        body, content_type = multipart(name, content)
        response = api.generic("POST", url, body, content_type=content_type)
        assert_api_answer(response, name)
        assert response.status_code in (status, 400), response.json()  # 400: refused as a photo on its own
        if status == 400:
            assert "Shorten the file name" in response.json()["error"]["message"]
        else:
            assert len(response.json()["accepted"] + response.json()["rejected"]) == 1


def test_the_schema_documents_the_400_of_every_filter_and_the_413_of_every_body():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if any(parameter["in"] == "query" for parameter in operation.get("parameters", [])):
                assert "400" in operation["responses"], f"{method.upper()} {path}"
            if "requestBody" in operation:
                assert "413" in operation["responses"], f"{method.upper()} {path}"
