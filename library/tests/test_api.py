"""The library API's search and items (library.api.views.items)."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from library.tests.factories import generated_item

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_the_api_searches_only_your_items(run_on_commit):
    user = UserFactory()
    item = generated_item(user, "a vintage film camera on a table", run_on_commit)
    api = APIClient()
    api.force_authenticate(user)
    hits = api.get("/api/v1/library/search/", {"q": "old analog camera"}).json()
    assert hits[0]["item"]["id"] == item.id
    assert hits[0]["score"] > 0.3
    assert hits[0]["matched"] == ["camera"]
    assert hits[0]["why"] == "matched: camera"
    assert api.get("/api/v1/library/search/", {"q": "cámara de fotos antigua"}).json()[0]["why"] == "similar meaning"
    assert api.get(f"/api/v1/library/items/{item.id}/similar/").status_code == 200
    assert api.get("/api/v1/library/search/").status_code == 400
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert stranger.get("/api/v1/library/search/", {"q": "old analog camera"}).json() == []
    assert stranger.get(f"/api/v1/library/items/{item.id}/").status_code == 404
