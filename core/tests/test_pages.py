import pytest

pytestmark = pytest.mark.django_db


def test_landing_page_invites_sign_up(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"/accounts/signup/" in response.content


def test_demo_mode_is_labelled_when_no_provider_is_configured(client, settings):
    settings.DEMO_MODE = True
    assert b"Demo mode" in client.get("/").content
    settings.DEMO_MODE = False
    assert b"Demo mode" not in client.get("/").content


def test_dashboard_requires_login(client):
    response = client.get("/app/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=/app/")


def test_dashboard_is_the_project_list(client, django_user_model):
    user = django_user_model.objects.create_user(email="a@example.com", password="x" * 12)
    client.force_login(user)
    assert client.get("/app/").url == "/projects/"


def test_logged_in_visitor_goes_from_landing_to_dashboard(client, django_user_model):
    user = django_user_model.objects.create_user(email="a@example.com", password="x" * 12)
    client.force_login(user)
    assert client.get("/").url == "/app/"


def test_pages_send_security_headers(client):
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_unknown_page_gets_a_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_logout_needs_post(client, django_user_model):
    user = django_user_model.objects.create_user(email="a@example.com", password="x" * 12)
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/projects/").status_code == 200
