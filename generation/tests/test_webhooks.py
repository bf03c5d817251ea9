"""Replicate's generation webhooks: signed, redelivered, forged, stale, replayed, for unknown predictions."""

import json
import time

import pytest

from core.models import WebhookDelivery
from generation.models import GeneratedImage, Generation
from generation.tests.factories import fetches, start, stored_files
from standins.replicate import sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def public_site(settings):
    """A public HTTPS address: predictions then carry our webhook."""
    settings.SITE_URL = "https://photoagent.example.com"


def post_webhook(client, generation, payload, **signature):
    body = json.dumps(payload).encode()
    return client.post(
        f"/generation/webhooks/replicate/{generation.id}/",
        body,
        content_type="application/json",
        **sign(body, **signature),
    )


def test_a_signed_webhook_finishes_the_job_and_a_redelivery_is_applied_once(
    replicate, run_on_commit, client, public_site
):
    generation = start(run_on_commit)
    [create] = replicate.prediction_creates()
    assert create.body["webhook"] == f"https://photoagent.example.com/generation/webhooks/replicate/{generation.id}/"
    assert create.body["webhook_events_filter"] == ["completed"]
    assert create.body["input"]["lora_weights"].startswith("https://photoagent.example.com/generation/loras/")

    payload = replicate.advance_prediction(generation.provider_id, "succeeded")
    with run_on_commit():
        assert post_webhook(client, generation, payload, webhook_id="msg_done").status_code == 204
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED, generation.error
    assert generation.images.count() == 2
    assert len(replicate.output_downloads()) == 2

    with run_on_commit():
        assert post_webhook(client, generation, payload, webhook_id="msg_done").status_code == 204
    assert WebhookDelivery.objects.filter(webhook_id="msg_done").count() == 1
    assert generation.images.count() == 2
    assert len(replicate.output_downloads()) == 2
    assert len(stored_files(generation)) == 4
    # Driven by the webhook alone: the provider was never polled.
    assert fetches(replicate, generation) == []


def generation_state(generation) -> dict:
    """Everything a webhook could change, and what it sets off (downloads of outputs)."""
    fields = ("status", "error", "output_urls", "cost", "gpu_seconds", "completed_at")
    return {
        "generation": Generation.objects.filter(id=generation.id).values(*fields).get(),
        "images": list(GeneratedImage.objects.filter(generation=generation).values_list("id", "file")),
        "deliveries": list(WebhookDelivery.objects.values_list("webhook_id", flat=True)),
    }


def test_forged_stale_and_replayed_webhooks_change_nothing(replicate, run_on_commit, client, public_site):
    from integrations.replicate import WEBHOOK_TOLERANCE_SECONDS

    generation = start(run_on_commit)
    url = f"/generation/webhooks/replicate/{generation.id}/"
    failed = json.dumps(replicate.advance_prediction(generation.provider_id, "failed", error="forged")).encode()
    succeeded = json.dumps(replicate.advance_prediction(generation.provider_id, "succeeded")).encode()
    genuine = sign(succeeded, webhook_id="msg_done")
    stale = int(time.time()) - WEBHOOK_TOLERANCE_SECONDS - 1
    running = generation_state(generation)
    forgeries = {
        "signed with another key": (failed, sign(failed, secret="whsec_" + "A" * 40)),
        "another body under a real signature": (failed, genuine),
        "stale": (failed, sign(failed, webhook_id="msg_stale", timestamp=stale)),
        "from the future": (failed, sign(failed, webhook_id="msg_next", timestamp=stale + 20 * 60)),
        "unsigned": (failed, {}),
    }
    for name, (body, headers) in forgeries.items():
        with run_on_commit():
            assert client.post(url, body, content_type="application/json", **headers).status_code == 401, name
        assert generation_state(generation) == running, name

    with run_on_commit():
        assert client.post(url, succeeded, content_type="application/json", **genuine).status_code == 204
    done = generation_state(generation)
    assert done["generation"]["status"] == Generation.Status.SUCCEEDED
    with run_on_commit():
        # The same delivery again, byte for byte.
        assert client.post(url, succeeded, content_type="application/json", **genuine).status_code == 204
    assert generation_state(generation) == done
    assert len(replicate.output_downloads()) == 2


def test_a_webhook_for_an_unknown_prediction_is_ignored(replicate, run_on_commit, client, public_site):
    generation = start(run_on_commit)
    payload = dict(replicate.advance_prediction(generation.provider_id, "succeeded"), id="someone-elses")
    with run_on_commit():
        assert post_webhook(client, generation, payload, webhook_id="msg_other").status_code == 204
    generation.refresh_from_db()
    assert generation.status == Generation.Status.RUNNING
    assert generation.output_urls == []
    assert replicate.output_downloads() == []
    # Not recorded as applied: a later delivery for the right prediction still counts.
    assert not WebhookDelivery.objects.filter(webhook_id="msg_other").exists()
