import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_anonymous_calls_get_401_in_the_common_error_body(api_client):
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "details": {},
        }
    }


def test_unknown_api_path_gets_a_json_404(api_client):
    response = api_client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_session_auth_works_and_enforces_csrf(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/v1/me/").status_code == 200
    response = client.post("/api/v1/tokens/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


def test_throttling_answers_429_with_retry_after(api_client, user, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {**UserRateThrottle.THROTTLE_RATES, "user": "2/minute"})
    api_client.force_authenticate(user)
    statuses = [api_client.get("/api/v1/me/").status_code for _ in range(2)]
    response = api_client.get("/api/v1/me/")
    assert statuses == [200, 200]
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.json()["error"]["details"]["retry_after_seconds"] > 0
    assert "Retry-After" in response


def test_schema_generates_with_no_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    assert "/api/v1/me/" in schema
    assert "bearerAuth" in schema


def test_schema_and_docs_are_served_without_any_cdn(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    docs = client.get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower()
