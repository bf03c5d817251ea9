"""With Redis down, pages and webhooks work on: the cache reads as empty, never as an error."""

import json
import socket

import pytest
from django.core.cache import caches

from training.models import TrainingRun
from training.tests.factories import ready_project
from training.tests.standins import sign, start_replicate_standin


@pytest.fixture
def redis_down(settings):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Django swaps the cache connections when CACHES changes.
    settings.CACHES = {
        "default": {"BACKEND": "core.cache.OutageTolerantRedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}
    }
    return caches["default"]


def test_the_cache_reads_as_empty_while_redis_is_down(redis_down):
    assert redis_down.get("anything", "default") == "default"
    assert redis_down.add("key", 1) is False
    redis_down.set("key", 1)
    with pytest.raises(ValueError, match="not found"):
        redis_down.incr("key")
    assert redis_down.get_many(["a", "b"]) == {}


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


@pytest.mark.django_db
def test_rate_limited_forms_work_while_redis_is_down(redis_down, client):
    # Limits fail open for the outage: the counters are in the cache.
    response = client.post("/accounts/signup/", {"email": "new@example.com", "password1": "x", "password2": "y"})
    assert response.status_code == 200
    assert "password" in response.content.decode().lower()
