"""With Redis down, pages and webhooks work on (the cache reads as empty, never as an error) and rate limits hold."""

import json
import socket
import time

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from core import ratelimit
from standins.replicate import sign, start_replicate_standin
from training.models import TrainingRun
from training.tests.factories import ready_project


@pytest.fixture
def redis_down(settings):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True  # as in production
    # Django swaps the cache connections when CACHES changes.
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True},
        },
    }
    return caches["default"]


def test_the_cache_reads_as_empty_while_redis_is_down(redis_down, caplog):
    assert redis_down.get("anything", "default") == "default"
    assert not redis_down.add("key", 1), "nothing was added"
    redis_down.set("key", 1)
    assert redis_down.get("key") is None, "nothing was stored"
    assert not redis_down.incr("key")
    assert redis_down.get_many(["a", "b"]) == {}
    assert not redis_down.has_key("key")
    redis_down.delete("key")
    assert "Exception ignored" in caplog.text, "every outage error is logged"


@pytest.mark.django_db
def test_a_webhook_is_applied_while_redis_is_down(redis_down, client, settings):
    settings.TRAINING_BACKEND = "training.backends.replicate.ReplicateTrainingBackend"
    settings.REPLICATE_API_TOKEN = "r8_standin"
    settings.REPLICATE_OWNER = "acme"
    settings.REPLICATE_WEBHOOK_SECRET = ""  # fetched from Replicate and cached: the cache is read
    replicate = start_replicate_standin()
    settings.REPLICATE_BASE_URL = replicate.url
    from training import services

    run = services.training_start(project=ready_project())
    TrainingRun.objects.filter(id=run.id).update(status=TrainingRun.Status.STARTING, provider_training_id="tr1")
    body = json.dumps({"id": "tr1", "status": "processing", "logs": "", "input": {}}).encode()
    response = client.post(
        f"/training/webhooks/replicate/{run.id}/", body, content_type="application/json", **sign(body)
    )
    replicate.shutdown()
    replicate.server_close()
    assert response.status_code == 204
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.TRAINING


# Rate limits hold through an outage: each process counts on its own
# ------------------------------------------------------------------------------


@pytest.fixture
def ratelimit_redis_down(settings):
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": dead_redis_url()},
    }
    yield
    ratelimit.limit_cache.clear()


def dead_redis_url() -> str:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


@pytest.mark.django_db
def test_the_sign_up_limit_holds_while_redis_is_down(ratelimit_redis_down, redis_down, client, settings, caplog):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "10/hour"}
    password = "a long sign-up passphrase"
    statuses = [
        client.post(
            "/accounts/signup/",
            {"email": f"new{n}@example.com", "display_name": "", "password1": password, "password2": password},
        ).status_code
        for n in range(11)
    ]
    assert statuses == [302] * 10 + [429]
    assert User.objects.count() == 10
    outage_lines = [record for record in caplog.records if "rate-limit cache unavailable" in record.getMessage()]
    assert len(outage_lines) == 1, "logged once per outage, not once per request"


def webhook(client):
    return client.post("/training/webhooks/replicate/1/", b"{}", content_type="application/json")


def log_in(client):
    return client.post("/accounts/login/", {"username": "someone@example.com", "password": "wrong"})


def reset(client):
    return client.post("/accounts/password/reset/", {"email": "someone@example.com"})


def new_token(client):
    return client.post("/accounts/settings/tokens/", {"name": "web", "expires_in": "30"})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("scope", "attempt"),
    [
        ("password_reset", reset),
        ("login_account", log_in),
        ("api_token_create", new_token),
        ("provider_webhook", webhook),
    ],
)
def test_every_rate_limit_holds_while_redis_is_down(ratelimit_redis_down, client, settings, scope, attempt):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, scope: "2/hour"}
    if scope == "api_token_create":
        client.force_login(UserFactory())
    responses = [attempt(client) for _ in range(3)]
    assert [response.status_code == 429 for response in responses] == [False, False, True]


@pytest.mark.django_db
def test_the_api_throttles_hold_while_redis_is_down(ratelimit_redis_down, redis_down, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {**AnonRateThrottle.THROTTLE_RATES, "anon": "3/minute"})
    anonymous = APIClient()
    assert [anonymous.get("/api/v1/schema/").status_code for _ in range(4)] == [200, 200, 200, 429]
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {**UserRateThrottle.THROTTLE_RATES, "user": "2/minute"})
    user = APIClient()
    user.force_authenticate(UserFactory())
    assert [user.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.django_db
def test_limits_count_in_redis_again_once_it_answers(ratelimit_redis_down, settings, monkeypatch, caplog):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "2/hour"}
    assert ratelimit.hit(scope="signup", ident="ip:1") == 0  # counted in this process
    settings.CACHES = {**settings.CACHES, "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert ratelimit.hit(scope="signup", ident="ip:2") == 0
    assert len(caches["ratelimit"]._cache) == 0, "the shared cache is not tried again at once"
    # Time passes (time-machine leaves time.monotonic alone, so the clock is moved by hand).
    later = time.monotonic() + ratelimit.RETRY_SHARED_AFTER + 1
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert ratelimit.hit(scope="signup", ident="ip:3") == 0
    assert "rate-limit cache answers again" in caplog.text
    assert len(caches["ratelimit"]._cache) == 1, "the new count is in the shared cache"
