import pytest

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_user_admin_searches_and_filters(operator_client):
    UserFactory(email="findme@example.com")
    UserFactory(email="other@example.com", unverified=True)
    page = operator_client.get("/admin/accounts/user/", {"q": "findme"}).content.decode()
    assert "findme@example.com" in page
    assert "other@example.com" not in page
    unverified = operator_client.get("/admin/accounts/user/", {"email_verified_at__isempty": "1"}).content.decode()
    assert "other@example.com" in unverified
    assert "findme@example.com" not in unverified


def test_token_admin_never_shows_a_secret_or_its_hash(operator_client, token_for):
    token, raw_token = token_for(UserFactory(), name="deploy bot")
    listing = operator_client.get("/admin/accounts/apitoken/").content.decode()
    detail = operator_client.get(f"/admin/accounts/apitoken/{token.id}/change/").content.decode()
    for page in (listing, detail):
        assert "deploy bot" in page
        assert raw_token not in page
        assert token.secret_hash not in page
    assert operator_client.get("/admin/accounts/apitoken/add/").status_code == 403


def test_token_admin_revokes(operator_client, token_for):
    token, _ = token_for(UserFactory())
    operator_client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.id]}, follow=True)
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_token_admin_list_queries_do_not_grow(operator_client, token_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(3):
        token_for(UserFactory(), name=f"t{n}")
    with CaptureQueriesContext(connection) as small:
        operator_client.get("/admin/accounts/apitoken/")
    for n in range(20):
        token_for(UserFactory(), name=f"more{n}")
    with CaptureQueriesContext(connection) as large:
        operator_client.get("/admin/accounts/apitoken/")
    assert len(large.captured_queries) == len(small.captured_queries)
