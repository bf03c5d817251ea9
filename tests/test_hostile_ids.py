"""Ids no database column can hold: SQLite refuses to compare them, which used to end in a 500."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

HUGE = str(2**64 + 1)


def test_a_huge_id_in_a_path_is_not_found(owned, client):
    client.force_login(owned["owner"])
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {owned['secret']}")
    assert client.get(f"/projects/{HUGE}/").status_code == 404
    assert client.post(f"/projects/{HUGE}/photos/{owned['ids']['photo_id']}/delete/").status_code == 404
    assert client.get(f"/generation/images/{HUGE}/thumbnail/").status_code == 404
    photo = owned["ids"]["photo_id"]
    response = api.get(f"/api/v1/projects/{HUGE}/photos/{photo}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_huge_id_in_a_filter_is_ignored_and_in_a_form_refused(owned, client):
    client.force_login(owned["owner"])
    assert client.get(f"/generation/?model={HUGE}&project={HUGE}").status_code == 200
    response = client.post("/library/shares/new/", {"generated_image": HUGE}, follow=True)
    assert b"Share one image or one album." in response.content


def test_a_huge_id_in_an_api_body_is_invalid(owned):
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {owned['secret']}")
    response = api.post("/api/v1/library/albums/", {"name": "Big", "items": [int(HUGE)]}, format="json")
    assert response.status_code == 400
    assert "items" in response.json()["error"]["details"]
    response = api.post("/api/v1/library/shares/", {"generated_image": int(HUGE)}, format="json")
    assert response.status_code == 400
    assert "generated_image" in response.json()["error"]["details"]
