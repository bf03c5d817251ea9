"""No view that takes a return address (`next`) sends the browser to another site."""

from urllib.parse import urlsplit

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from generation import services as generation_services
from generation.tests.factories import trained_model

pytestmark = pytest.mark.django_db

OFFSITE = [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "///evil.example",
    "https:/\\evil.example",
    " //evil.example",
    "javascript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
]


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def image(settings, run_on_commit):
    settings.GENERATION_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.DEMO_GENERATION_SECONDS = 0
    run = trained_model()
    with run_on_commit():
        generation = generation_services.generation_create(
            user=run.project.owner, training_run=run, prompt="x", num_outputs=1
        )
    return generation.images.get()


def assert_stays_here(response, expected: str):
    assert response.status_code == 302
    location = response["Location"]
    assert location == expected
    assert not urlsplit(location).netloc
    assert not urlsplit(location).scheme


@pytest.mark.parametrize("target", OFFSITE)
def test_logging_in_never_follows_an_offsite_next(client, user, target):
    response = client.post(
        f"/accounts/login/?next={target}", {"username": user.email, "password": DEFAULT_PASSWORD, "next": target}
    )
    assert_stays_here(response, "/app/")
    # Already logged in, the log-in page sends the visitor on at once: still never off-site.
    assert_stays_here(client.get("/accounts/login/", {"next": target}), "/app/")


@pytest.mark.parametrize("target", OFFSITE)
def test_logging_out_never_follows_an_offsite_next(client, user, target):
    client.force_login(user)
    assert_stays_here(client.post("/accounts/logout/", {"next": target}), "/")


@pytest.mark.parametrize("target", OFFSITE)
def test_forms_that_return_to_their_page_never_leave_the_site(client, image, target):
    client.force_login(image.generation.user)
    response = client.post(f"/generation/images/{image.id}/favourite/", {"favourite": "1", "next": target})
    assert_stays_here(response, f"/generation/images/{image.id}/")
    response = client.post("/generation/images/selection/", {"images": "", "next": target})
    assert_stays_here(response, "/generation/")


def test_a_local_next_is_still_followed(client, user):
    response = client.post(
        "/accounts/login/", {"username": user.email, "password": DEFAULT_PASSWORD, "next": "/library/"}
    )
    assert_stays_here(response, "/library/")
