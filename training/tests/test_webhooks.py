"""Replicate's training webhooks: signed, replayed, forged, stale, out of order, for unknown runs."""

import json

import pytest
from django.core import mail

from standins.replicate import sign
from training.models import TrainingRun
from training.tests.factories import started_run

pytestmark = pytest.mark.django_db

# Webhooks
# ------------------------------------------------------------------------------


def post_webhook(client, run, payload, **signature):
    body = json.dumps(payload).encode()
    headers = sign(body, **signature)
    return client.post(f"/training/webhooks/replicate/{run.id}/", body, content_type="application/json", **headers)


def test_a_signed_webhook_moves_the_run_and_a_replay_changes_nothing(replicate, run_on_commit, client):
    run = started_run(run_on_commit)
    payload = replicate.advance(run.provider_training_id, "succeeded")
    with run_on_commit():
        assert post_webhook(client, run, payload, webhook_id="msg_done").status_code == 204
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED
    with run_on_commit():
        assert post_webhook(client, run, payload, webhook_id="msg_done").status_code == 204
        assert post_webhook(client, run, payload, webhook_id="msg_other").status_code == 204
    assert len(mail.outbox) == 1


def run_state(run) -> dict:
    """Everything a webhook could change, and what it sets off (emails, fetched weights)."""
    from core.models import WebhookDelivery

    fields = ("status", "progress", "log_tail", "loss_points", "error", "lora_file", "completed_at", "gpu_seconds")
    return {
        "run": TrainingRun.objects.filter(id=run.id).values(*fields).get(),
        "deliveries": list(WebhookDelivery.objects.values_list("webhook_id", flat=True)),
        "emails": len(mail.outbox),
    }


def test_forged_replayed_and_stale_webhooks_change_nothing(replicate, run_on_commit, client):
    import time

    from integrations.replicate import WEBHOOK_TOLERANCE_SECONDS

    run = started_run(run_on_commit)
    early = dict(
        replicate.advance(run.provider_training_id, "processing", logs="flux: 40%| 400/1000 [loss: 4.1e-01]\n")
    )
    late = dict(replicate.advance(run.provider_training_id, "processing", logs="flux: 60%| 600/1000 [loss: 3.0e-01]\n"))
    body = json.dumps(early).encode()
    early_headers = sign(body, webhook_id="msg_early")
    with run_on_commit():
        first = client.post(
            f"/training/webhooks/replicate/{run.id}/", body, content_type="application/json", **early_headers
        )
        assert first.status_code == 204
        assert post_webhook(client, run, late, webhook_id="msg_late").status_code == 204
    applied = run_state(run)
    assert applied["run"]["progress"] == 60

    succeeded = dict(replicate.advance(run.provider_training_id, "succeeded"))
    forged_body = json.dumps(succeeded).encode()
    stale = int(time.time()) - WEBHOOK_TOLERANCE_SECONDS - 1
    attempts = {
        # The earlier delivery again, byte for byte: applied, it would bring back its log.
        "replayed": (body, early_headers, 204),
        "signed with another key": (forged_body, sign(forged_body, secret="whsec_" + "A" * 40), 401),
        "another body under a real signature": (forged_body, early_headers, 401),
        "stale": (forged_body, sign(forged_body, webhook_id="msg_stale", timestamp=stale), 401),
        "from the future": (forged_body, sign(forged_body, webhook_id="msg_next", timestamp=stale + 20 * 60), 401),
        "unsigned": (forged_body, {}, 401),
    }
    for name, (payload, headers, expected) in attempts.items():
        with run_on_commit():
            response = client.post(
                f"/training/webhooks/replicate/{run.id}/", payload, content_type="application/json", **headers
            )
        assert response.status_code == expected, name
        assert run_state(run) == applied, name
    assert [request for request in replicate.requests if "/weights/" in request.path] == []


def test_out_of_order_webhooks_never_move_a_run_back(replicate, run_on_commit, client):
    run = started_run(run_on_commit)
    processing = dict(replicate.advance(run.provider_training_id, "processing", logs="1/10 [\n"))
    succeeded = dict(replicate.advance(run.provider_training_id, "succeeded"))
    with run_on_commit():
        post_webhook(client, run, succeeded, webhook_id="b")
        post_webhook(client, run, processing, webhook_id="a")
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED


def test_a_webhook_for_an_unknown_run_is_ignored(replicate, run_on_commit, client):
    run = started_run(run_on_commit)
    payload = dict(replicate.trainings[run.provider_training_id], id="someone-elses")
    assert post_webhook(client, run, payload).status_code == 204
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.STARTING
