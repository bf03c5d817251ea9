"""The account API: the authenticated user, bearer tokens and their management, the schema."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken

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


# Bearer tokens
# ------------------------------------------------------------------------------


def bearer(raw_token):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw_token}"}


def test_bearer_token_authenticates_the_api(api_client, user, token_for):
    _, raw_token = token_for(user)
    response = api_client.get("/api/v1/me/", **bearer(raw_token))
    assert response.status_code == 200
    assert response.json()["email"] == user.email


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer pat_nope_nope", "Invalid token."),
        ("Bearer not-a-token", "Invalid token."),
        ("Bearer", "Malformed Authorization header"),
    ],
)
def test_bad_tokens_get_401_with_a_reason(api_client, header, message):
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert message in response.json()["error"]["message"]


def test_a_right_prefix_with_a_wrong_secret_is_refused(api_client, user, token_for):
    _, raw_token = token_for(user)
    response = api_client.get("/api/v1/me/", **bearer(raw_token[:-4] + "AAAA"))
    assert response.status_code == 401


def test_expired_token_is_refused(api_client, user, token_for):
    token, raw_token = token_for(user, expires_at=timezone.now() + timedelta(days=1))
    ApiToken.objects.filter(id=token.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api_client.get("/api/v1/me/", **bearer(raw_token))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This token has expired."


def test_revoked_token_no_longer_works(api_client, user, token_for):
    token, raw_token = token_for(user)
    assert api_client.get("/api/v1/me/", **bearer(raw_token)).status_code == 200
    assert api_client.delete(f"/api/v1/tokens/{token.id}/", **bearer(raw_token)).status_code == 204
    response = api_client.get("/api/v1/me/", **bearer(raw_token))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This token has been revoked."


def test_token_of_a_disabled_account_is_refused(api_client, user, token_for):
    _, raw_token = token_for(user)
    user.is_active = False
    user.save()
    assert api_client.get("/api/v1/me/", **bearer(raw_token)).status_code == 401


def test_last_used_is_recorded_at_most_once_a_minute(api_client, user, token_for, django_assert_num_queries):
    token, raw_token = token_for(user)
    api_client.get("/api/v1/me/", **bearer(raw_token))
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    with django_assert_num_queries(1):  # the token lookup, no write
        api_client.get("/api/v1/me/", **bearer(raw_token))
    token.refresh_from_db()
    assert token.last_used_at == first_use


def test_api_creates_a_token_and_shows_its_secret_once(api_client, user):
    api_client.force_authenticate(user)
    expiry = (timezone.now() + timedelta(days=30)).isoformat()
    response = api_client.post("/api/v1/tokens/", {"name": "ci", "expires_at": expiry}, format="json")
    assert response.status_code == 201
    secret = response.json()["token"]
    assert secret.startswith("pat_")
    listed = api_client.get("/api/v1/tokens/").json()
    assert listed["count"] == 1
    assert "token" not in listed["results"][0]
    assert secret not in str(api_client.get(f"/api/v1/tokens/{response.json()['id']}/").json())


def test_api_refuses_an_expiry_in_the_past(api_client, user):
    api_client.force_authenticate(user)
    past = (timezone.now() - timedelta(days=1)).isoformat()
    response = api_client.post("/api/v1/tokens/", {"name": "ci", "expires_at": past}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["expires_at"] == ["The expiry must be in the future."]
    assert not ApiToken.objects.exists()


def test_token_limit_is_explained(api_client, user, token_for, settings):
    settings.API_TOKEN_MAX_PER_USER = 1
    token_for(user)
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/tokens/", {"name": "second"}, format="json")
    assert response.status_code == 400
    assert "revoke one" in response.json()["error"]["details"]["non_field_errors"][0]


def test_another_users_token_is_not_found(api_client, user, other_user, token_for):
    theirs, _ = token_for(other_user)
    api_client.force_authenticate(user)
    assert api_client.get(f"/api/v1/tokens/{theirs.id}/").status_code == 404
    assert api_client.delete(f"/api/v1/tokens/{theirs.id}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_token_list_makes_the_same_queries_for_1_or_30_tokens(api_client, user, token_for, django_assert_num_queries):
    _, raw_token = token_for(user)
    api_client.get("/api/v1/me/", **bearer(raw_token))  # records last use, so listing does not write
    with django_assert_num_queries(3):  # auth lookup, count, page
        assert api_client.get("/api/v1/tokens/", **bearer(raw_token)).json()["count"] == 1
    for n in range(14):
        token_for(user, name=f"t{n}")
    with django_assert_num_queries(3):
        assert api_client.get("/api/v1/tokens/", **bearer(raw_token)).json()["count"] == 15


@pytest.mark.parametrize(
    ("body", "fmt"),
    [
        ({"name": "ci"}, "json"),
        ({"name": "ci", "expires_at": ""}, "json"),
        ({"name": "ci", "expires_at": None}, "json"),
        ({"name": "ci", "expires_at": ""}, "multipart"),
    ],
    ids=["left-out", "empty-json", "null", "empty-form-field"],
)
def test_an_api_token_without_an_expiry_expires_in_the_default_90_days(api_client, user, body, fmt):
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/tokens/", body, format=fmt)
    assert response.status_code == 201, response.json()
    expires_in = ApiToken.objects.get().expires_at - timezone.now()
    assert timedelta(days=89, hours=23) < expires_in <= timedelta(days=90)
    assert response.json()["expires_at"] is not None


def test_an_api_token_that_never_expires_is_asked_for_explicitly(api_client, user):
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/tokens/", {"name": "ci", "never_expires": True}, format="json")
    assert response.status_code == 201
    assert response.json()["expires_at"] is None
    assert "never_expires" not in response.json()
    expiry = (timezone.now() + timedelta(days=3)).isoformat()
    both = {"name": "ci", "never_expires": True, "expires_at": expiry}
    response = api_client.post("/api/v1/tokens/", both, format="json")
    assert response.status_code == 400
    assert "never_expires" in response.json()["error"]["details"]


def test_the_schema_says_what_a_token_without_an_expiry_gets():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    fields = schema["components"]["schemas"]["ApiTokenCreateInputRequest"]["properties"]
    assert "90 days from now" in fields["expires_at"]["description"]
    assert "never_expires" in fields
