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


@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_api_docs_have_a_language_and_a_way_back_to_the_app(client, path):
    page = client.get(path).content.decode()
    assert '<html lang="en">' in page
    assert '<a href="/">← Back to PhotoAgent</a>' in page


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/accounts/signup/", {"email": "not an address", "password1": "short", "password2": "other"}),
        ("/accounts/login/", {"username": "nobody@example.com", "password": ""}),
        ("/accounts/password/reset/", {"email": ""}),
    ],
)
def test_the_ids_that_form_fields_are_described_by_are_on_the_page(client, path, data):
    """Screen readers read a field's help text and errors through aria-describedby: each id it names
    must exist, on the page as first shown and as it comes back with errors."""
    import re

    checked = 0
    for response in (client.get(path), client.post(path, data)):
        page = response.content.decode()
        for refs in re.findall(r'aria-describedby="([^"]+)"', page):
            for reference in refs.split():
                assert f'id="{reference}"' in page, (
                    f"{path} ({response.status_code}): no element has the id {reference}"
                )
                checked += 1
    assert checked, f"{path}: no field is described by its help text or errors"
