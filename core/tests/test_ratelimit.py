"""Rate limits: sign-up, password resets, API tokens and generations (the website and the API), and
django-axes' log-in lockout. Each test lowers one limit; the test settings keep them out of reach."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from core import ratelimit
from generation.models import Generation
from generation.tests.factories import trained_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit(settings):
    def set_limit(scope: str, rate: str):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, scope: rate}

    return set_limit


def assert_limited_page(response):
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many attempts. Please wait" in response.content


def assert_limited_api(response):
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["details"]["retry_after_seconds"] > 0


# The helper
# ------------------------------------------------------------------------------


def test_rates_read_as_count_per_period():
    assert ratelimit.parse_rate("5/hour") == (5, 3600)
    assert ratelimit.parse_rate("20/minute") == (20, 60)
    for bad in ("5", "5/fortnight", "many/hour", "0/day"):
        with pytest.raises(ImproperlyConfigured):
            ratelimit.parse_rate(bad)


def test_a_window_allows_its_count_then_says_how_long_to_wait(limit, monkeypatch):
    limit("signup", "2/minute")
    now = 60 * 16_667 + 20.0  # 20 s into a minute
    monkeypatch.setattr(ratelimit.time, "time", lambda: now)
    assert [ratelimit.hit(scope="signup", ident="ip:1") for _ in range(2)] == [0, 0]
    assert ratelimit.hit(scope="signup", ident="ip:1") == 40
    assert ratelimit.hit(scope="signup", ident="ip:2") == 0, "each client has its own count"
    now += 40
    assert ratelimit.hit(scope="signup", ident="ip:1") == 0, "a new window starts afresh"


# Sign-up and password resets: per client address
# ------------------------------------------------------------------------------


def signup(client, n, **extra):
    password = "a long sign-up passphrase"
    return client.post(
        "/accounts/signup/",
        {"email": f"new{n}@example.com", "display_name": "", "password1": password, "password2": password},
        **extra,
    )


def test_sign_ups_from_one_address_are_limited(client, limit, django_capture_on_commit_callbacks):
    limit("signup", "2/hour")
    with django_capture_on_commit_callbacks(execute=True):
        assert [signup(client, n).status_code for n in range(2)] == [302, 302]
        assert_limited_page(signup(client, 2))
        assert_limited_page(client.post("/accounts/verify/resend/", {"email": "new0@example.com"}))
    assert User.objects.count() == 2
    assert len(mail.outbox) == 2
    assert signup(client, 3, REMOTE_ADDR="203.0.113.9").status_code == 302, "another address is not affected"
    assert client.get("/accounts/signup/").status_code == 200, "only attempts count, not looking at the form"


def test_password_resets_are_limited_per_address_and_per_mailbox(client, limit, django_capture_on_commit_callbacks):
    limit("password_reset", "2/hour")
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(2):
            response = client.post("/accounts/password/reset/", {"email": user.email}, REMOTE_ADDR=f"203.0.113.{n}")
            assert response.status_code == 302
        # A third client, the same mailbox: refused, and no third email.
        assert_limited_page(client.post("/accounts/password/reset/", {"email": user.email}, REMOTE_ADDR="203.0.113.7"))
        # One client, other mailboxes: refused after its own two.
        for n in range(2):
            client.post("/accounts/password/reset/", {"email": f"x{n}@example.com"}, REMOTE_ADDR="198.51.100.1")
        assert_limited_page(
            client.post("/accounts/password/reset/", {"email": "y@example.com"}, REMOTE_ADDR="198.51.100.1")
        )
    assert len(mail.outbox) == 2


# API tokens and generations: per user, website and API together
# ------------------------------------------------------------------------------


def test_token_creation_is_limited_per_user_across_the_website_and_the_api(client, limit):
    limit("api_token_create", "2/hour")
    user = UserFactory()
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user)
    assert client.post("/accounts/settings/tokens/", {"name": "web", "expires_in": "30"}).status_code == 302
    assert api.post("/api/v1/tokens", {"name": "api"}, format="json").status_code == 201
    assert_limited_api(api.post("/api/v1/tokens", {"name": "api 2"}, format="json"))
    assert_limited_page(client.post("/accounts/settings/tokens/", {"name": "web 2", "expires_in": "30"}))
    assert ApiToken.objects.filter(user=user).count() == 2
    other = APIClient()
    other.force_authenticate(UserFactory())
    assert other.post("/api/v1/tokens", {"name": "theirs"}, format="json").status_code == 201


def test_generation_is_limited_per_user_across_the_website_and_the_api(client, limit, settings, run_on_commit):
    limit("generation_create", "2/minute")
    settings.GENERATION_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.DEMO_GENERATION_SECONDS = 0
    run = trained_model()
    client.force_login(run.project.owner)
    api = APIClient()
    api.force_authenticate(run.project.owner)
    form = {"model": run.id, "prompt": "a mug", "num_outputs": 1, "aspect_ratio": "1:1", "guidance": 3, "steps": 28}
    form |= {"lora_scale": 1, "output_format": "webp"}
    with run_on_commit():
        assert client.post("/generation/new/", form).status_code == 302
        assert api.post("/api/v1/generations/", {"model": run.id, "prompt": "a mug"}, format="json").status_code == 201
        assert_limited_api(api.post("/api/v1/generations/", {"model": run.id, "prompt": "a mug"}, format="json"))
        assert_limited_page(client.post("/generation/new/", form))
    assert Generation.objects.count() == 2
    assert client.get("/generation/new/").status_code == 200


# Log-in: django-axes locks an account from one address after repeated failures
# ------------------------------------------------------------------------------


def log_in(client, email, password, address="192.0.2.1"):
    return client.post("/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=address)


def test_failures_on_many_accounts_lock_only_each_account_from_that_address(client, settings):
    users = UserFactory.create_batch(settings.AXES_FAILURE_LIMIT + 1)
    statuses = [log_in(client, user.email, "wrong password").status_code for user in users[:-1]]
    assert statuses == [200] * settings.AXES_FAILURE_LIMIT
    assert log_in(client, users[-1].email, DEFAULT_PASSWORD).status_code == 302


def test_a_lockout_ends_after_the_cool_off(client, settings):
    user = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, user.email, "wrong password")
    assert log_in(client, user.email, DEFAULT_PASSWORD).status_code == 429
    # The cool-off passes.
    attempt = AccessAttempt.objects.get()
    AccessAttempt.objects.update(attempt_time=attempt.attempt_time - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert log_in(client, user.email, DEFAULT_PASSWORD).status_code == 302
