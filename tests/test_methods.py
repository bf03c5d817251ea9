"""Every website URL answers only the methods it is for: a read-only page GET and HEAD, a form page
also POST, an action POST only; anything else is 405, never the page or a change. Generated from the
URL conf: a new page is checked without being listed, unless it is a form page (list it below)."""

import pytest

from tests.test_access_matrix import all_routes
from tests.test_cache_control import url_for

pytestmark = pytest.mark.django_db

# Pages that show a form on GET and take it on POST. Every other page is read-only.
FORM_PAGES = {
    "accounts/signup/",
    "accounts/verify/resend/",
    "accounts/login/",
    "accounts/password/change/",
    "accounts/password/reset/",
    "accounts/password/reset/<uidb64>/<token>/",
    "accounts/settings/",
    "projects/new/",
    "projects/<id:project_id>/edit/",
    "projects/<id:project_id>/delete/",
    "projects/<id:project_id>/members/",
    "invitations/<str:token>/",
    "invitations/<str:token>/signup/",
    "generation/new/",
    "library/albums/",
    "library/trash/empty/",
    "library/trash/photos/<id:photo_id>/delete/",
    "library/trash/images/<id:image_id>/delete/",
}


def website_routes():
    return [route for route in all_routes() if not route.startswith(("admin/", "api/", "^api"))]


def test_pages_answer_405_to_the_methods_they_are_not_for(owned, client):
    client.force_login(owned["owner"])
    read_only = []
    for route in website_routes():
        url = url_for(route, owned)
        for method in ("put", "delete", "patch"):
            status = getattr(client, method)(url).status_code
            assert status == 405, f"{method.upper()} {url}: {status}"
        if route in FORM_PAGES or client.get(url).status_code == 405:  # a form page, or an action (POST only)
            continue
        read_only.append(route)
        response = client.post(url, {"name": "x", "title": "x", "favourite": "1"})
        assert response.status_code == 405, f"POST {url} (read-only): {response.status_code}"
        assert "GET" in response["Allow"], url
    assert {"library/", "generation/", "projects/", "s/<str:token>/"} <= set(read_only)


def test_read_only_pages_answer_head(owned, client):
    client.force_login(owned["owner"])
    for route in ("library/", "generation/", "projects/<id:project_id>/", "training/models/", ""):
        assert client.head(url_for(route, owned)).status_code in (200, 302), route
