"""Provider answers outside the happy path still end every run, once, with a message that says why."""

import base64
import json
import struct
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.storage import InMemoryStorage
from django.utils import timezone

from core.exceptions import TransientProviderError
from standins.replicate import WEBHOOK_SECRET, lora_tar, sign
from training import selectors, services, weights
from training.models import TrainingRun
from training.tests.factories import poll_now, started_run

pytestmark = pytest.mark.django_db

NEW_SECRET = "whsec_" + base64.b64encode(b"the rotated webhook signing key").decode()


def safetensors(header, data: bytes = b"\0" * 16) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def weights_downloads(replicate):
    return [r for r in replicate.requests if r.path.startswith("/weights/")]


def assert_ended_once(run, *, status, kind, words):
    run.refresh_from_db()
    assert (run.status, run.error_kind) == (status, kind), run.error
    assert words in run.error
    assert len(mail.outbox) == 1
    assert words in mail.outbox[0].body
    run.project.refresh_from_db()
    assert selectors.training_refusal(project=run.project, steps=run.steps) == ""  # free to train again


# Publishing
# ------------------------------------------------------------------------------


def test_weights_deleted_before_we_fetch_them_end_the_run_once(replicate, run_on_commit):
    run = started_run(run_on_commit)
    replicate.advance(run.provider_training_id, "succeeded")
    replicate.weights.clear()  # Replicate deletes outputs an hour after the end: the URL answers 404
    with run_on_commit():
        poll_now(run.id)
    assert_ended_once(run, status=TrainingRun.Status.FAILED, kind="expired_outputs", words="deleted its LoRA")
    TrainingRun.objects.filter(id=run.id).update(last_event_at=timezone.now() - timedelta(hours=1))
    with run_on_commit():
        services.training_reconcile()
    assert len(weights_downloads(replicate)) == 1  # never downloaded again
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "lora",
    [
        safetensors({"w": [1, 2]}),
        safetensors([1, 2]),
        safetensors({}),
        safetensors({"__metadata__": "not a map", "w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}),
        safetensors({"w": {"dtype": 7, "shape": [4], "data_offsets": [0, 16]}}),
        safetensors({"w": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}),
        safetensors({"w": {"dtype": "F32", "shape": [4], "data_offsets": [16, 0]}}),
        safetensors({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, "16"]}}),
        safetensors({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 9999]}}),
        safetensors({"w": {"dtype": "F32", "shape": [4]}}),
        b"\xff" * 8 + b"{}",
        b"short",
    ],
    ids=lambda lora: lora[8:40].decode(errors="replace"),
)
def test_a_lora_of_any_wrong_shape_is_refused_clearly(lora):
    with pytest.raises(weights.WeightsError):
        weights.extract_lora(_stream(lora_tar(lora)), max_bytes=10**6)


def test_a_valid_lora_is_accepted():
    header = {"__metadata__": {"format": "pt"}, "w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}
    with weights.extract_lora(_stream(lora_tar(safetensors(header))), max_bytes=10**6) as lora:
        assert weights.check_safetensors(lora)["w"]["shape"] == [4]


def _stream(content: bytes):
    import io

    return io.BytesIO(content)


@pytest.mark.parametrize(
    ("tar", "words"),
    [
        (lambda: lora_tar(safetensors({"w": [1, 2]})), "not safetensors"),
        (lambda: lora_tar()[:560], "not a readable tar"),
        (lambda: b"\x1f\x8b" + b"\0" * 600, "not a readable tar"),
    ],
    ids=["bad header", "truncated tar", "broken gzip"],
)
def test_unusable_weights_end_the_run_once_with_a_refusal(replicate, run_on_commit, tar, words):
    run = started_run(run_on_commit)
    replicate.advance(run.provider_training_id, "succeeded", tar=tar())
    with run_on_commit():
        poll_now(run.id)
    assert_ended_once(run, status=TrainingRun.Status.FAILED, kind="bad_output", words=words)
    assert not run.lora_file


def test_oversized_weights_are_refused(replicate, run_on_commit, settings):
    settings.TRAINING_MAX_WEIGHTS_BYTES = 1000
    run = started_run(run_on_commit)
    replicate.advance(run.provider_training_id, "succeeded", tar=lora_tar() + b"\0" * 5000)
    with run_on_commit():
        poll_now(run.id)
    assert_ended_once(run, status=TrainingRun.Status.FAILED, kind="bad_output", words="larger than")


def test_weights_as_a_data_uri_are_published(replicate, run_on_commit):
    run = started_run(run_on_commit)
    replicate.advance(run.provider_training_id, "succeeded")
    encoded = base64.b64encode(lora_tar()).decode()
    replicate.trainings[run.provider_training_id]["output"]["weights"] = f"data:application/x-tar;base64,{encoded}"
    with run_on_commit():
        poll_now(run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert run.lora_file
    assert weights_downloads(replicate) == []


class LoraRefusingStorage(InMemoryStorage):
    """A storage with a bug that only saving a LoRA reaches."""

    def _save(self, name, content):
        if name.endswith("lora.safetensors"):
            raise AttributeError("'list' object has no attribute 'get'")
        return super()._save(name, content)


def test_an_unexpected_error_in_a_step_is_retried_then_ends_the_run(
    replicate,
    run_on_commit,
    settings,
    worker_retries,
    caplog,
):
    settings.TRAINING_STEP_ATTEMPTS = 3
    run = started_run(run_on_commit)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": f"{__name__}.LoraRefusingStorage"}}
    replicate.advance(run.provider_training_id, "succeeded")
    with run_on_commit():
        poll_now(run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert run.error_kind == "internal"  # ours, not the provider's
    assert "storing its LoRA failed 3 times" in run.error
    assert "AttributeError" in run.error  # the last error, for the user and operators
    assert f"training {run.id}: publish: unexpected AttributeError" in caplog.text
    assert len(weights_downloads(replicate)) == 3
    assert len(mail.outbox) == 1


# Provider statuses
# ------------------------------------------------------------------------------


def test_out_of_memory_tells_the_user_it_is_not_their_photos(replicate, run_on_commit):
    run = started_run(run_on_commit)
    replicate.advance(
        run.provider_training_id,
        "failed",
        error="Traceback (most recent call last):\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2 GiB",
    )
    with run_on_commit():
        poll_now(run.id)
    assert_ended_once(run, status=TrainingRun.Status.FAILED, kind="out_of_memory", words="ran out of memory")
    assert "Check your photos" not in run.error
    assert "not caused by your photos" in run.error


def test_an_unknown_status_changes_nothing_and_the_deadline_still_ends_the_run(replicate, run_on_commit):
    run = started_run(run_on_commit)
    replicate.advance(run.provider_training_id, "warming-up")
    with run_on_commit():
        poll_now(run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.STARTING
    TrainingRun.objects.filter(id=run.id).update(state_changed_at=timezone.now() - timedelta(minutes=61))
    with run_on_commit():
        services.training_reconcile()
    assert_ended_once(run, status=TrainingRun.Status.FAILED, kind="deadline", words="did not start this training")
    assert replicate.trainings[run.provider_training_id]["status"] == "canceled"  # stopped at the provider too


# Polling
# ------------------------------------------------------------------------------


def test_duplicate_poll_messages_make_one_provider_request(replicate, run_on_commit):
    run = started_run(run_on_commit)
    TrainingRun.objects.filter(id=run.id).update(next_poll_at=timezone.now())
    for _ in range(16):  # the reconcile re-sent the due run while the worker was busy
        services.training_sync(run_id=run.id)
    polls = [
        r for r in replicate.requests if r.method == "GET" and r.path == f"/v1/trainings/{run.provider_training_id}"
    ]
    assert len(polls) == 1
    run.refresh_from_db()
    assert run.polls == 1


@pytest.mark.parametrize(("status", "cap"), [("starting", 300), ("processing", 120)])
def test_the_poll_backoff_grows_with_real_polls_up_to_a_cap_per_status(replicate, run_on_commit, status, cap):
    run = started_run(run_on_commit)
    replicate.advance(run.provider_training_id, status)
    delays = []
    for _ in range(8):
        poll_now(run.id)
        run.refresh_from_db()
        delays.append(round((run.next_poll_at - timezone.now()).total_seconds()))
    assert delays == sorted(delays)
    assert delays[-1] == pytest.approx(cap, abs=2)


def test_a_training_that_stays_starting_says_so_on_its_page(replicate, run_on_commit, client):
    run = started_run(run_on_commit)
    client.force_login(run.project.owner)
    assert "still queueing" not in client.get(f"/training/runs/{run.id}/").content.decode()
    TrainingRun.objects.filter(id=run.id).update(state_changed_at=timezone.now() - timedelta(minutes=20))
    page = client.get(f"/training/runs/{run.id}/").content.decode()
    assert "The provider is still queueing this training for a GPU; this can take up to 40 minutes more." in page
    api = client.get(f"/api/v1/trainings/{run.id}/").json()
    assert api["wait_notice"].startswith("The provider is still queueing this training")


# Canceling
# ------------------------------------------------------------------------------


def test_canceling_a_finished_training_says_its_gpu_time_is_billed(replicate, run_on_commit, client):
    run = started_run(run_on_commit)
    replicate.advance(run.provider_training_id, "succeeded")
    TrainingRun.objects.filter(id=run.id).update(
        status=TrainingRun.Status.PUBLISHING, gpu_seconds=512.5, actual_cost="0.78"
    )
    client.force_login(run.project.owner)
    page = client.post(f"/training/runs/{run.id}/cancel/", follow=True).content.decode()
    assert "Training canceled. It used 8.5 GPU minutes ($0.78), which are billed." in page
    assert "not be charged" not in page
    assert mail.outbox == []


def test_canceling_a_training_that_never_started_says_nothing_is_charged(replicate, run_on_commit, client):
    run = started_run(run_on_commit)
    client.force_login(run.project.owner)
    page = client.post(f"/training/runs/{run.id}/cancel/", follow=True).content.decode()
    assert "It had not started on a GPU, so nothing is charged." in page


def test_a_cancel_webhook_racing_the_users_cancel_is_the_users(replicate, run_on_commit, client, settings):
    run = started_run(run_on_commit)
    TrainingRun.objects.filter(id=run.id).update(error_kind="user_canceled")  # the cancel is on its way
    payload = replicate.advance(run.provider_training_id, "canceled")
    body = json.dumps(payload).encode()
    with run_on_commit():
        response = client.post(
            f"/training/webhooks/replicate/{run.id}/", body, content_type="application/json", **sign(body)
        )
    assert response.status_code == 204
    run.refresh_from_db()
    assert (run.status, run.error) == (TrainingRun.Status.CANCELED, "You canceled this training.")
    assert mail.outbox == []


# Webhooks
# ------------------------------------------------------------------------------


def secret_fetches(replicate):
    return [r for r in replicate.requests if r.path == "/v1/webhooks/default/secret"]


def deliver(client, run, payload, *, secret=WEBHOOK_SECRET, webhook_id="msg_1", raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = sign(body, webhook_id=webhook_id, secret=secret) if secret else {}
    return client.post(f"/training/webhooks/replicate/{run.id}/", body, content_type="application/json", **headers)


def test_a_rotated_secret_is_fetched_again_and_the_old_one_no_longer_accepted(
    replicate,
    run_on_commit,
    client,
):
    run = started_run(run_on_commit)
    starting = dict(replicate.trainings[run.provider_training_id])
    assert deliver(client, run, starting, webhook_id="a").status_code == 204
    assert len(secret_fetches(replicate)) == 1

    replicate.secret = NEW_SECRET
    assert deliver(client, run, starting, secret=NEW_SECRET, webhook_id="b").status_code == 204
    assert len(secret_fetches(replicate)) == 2  # the mismatch fetched the secret again
    assert deliver(client, run, starting, secret=NEW_SECRET, webhook_id="c").status_code == 204
    assert deliver(client, run, starting, secret=WEBHOOK_SECRET, webhook_id="d").status_code == 401
    assert deliver(client, run, starting, secret="whsec_" + "B" * 40, webhook_id="e").status_code == 401
    assert len(secret_fetches(replicate)) == 2  # re-fetched at most once a minute: forgeries cost nothing more

    from django.core.cache import cache

    cache.delete("replicate:webhook-secret:refreshed")  # a minute later
    assert deliver(client, run, starting, secret="whsec_" + "B" * 40, webhook_id="f").status_code == 401
    assert len(secret_fetches(replicate)) == 3


def test_unsigned_requests_are_refused_before_any_outbound_call(replicate, run_on_commit, client):
    run = started_run(run_on_commit)
    replicate.fail_next(r"GET /v1/webhooks/default/secret", 500)
    for _ in range(5):
        assert deliver(client, run, {"id": "x"}, secret="").status_code == 401
    assert secret_fetches(replicate) == []


def test_a_failed_secret_fetch_is_remembered_briefly(replicate, run_on_commit, client):
    run = started_run(run_on_commit)
    replicate.fail_next(r"GET /v1/webhooks/default/secret", 500)
    starting = dict(replicate.trainings[run.provider_training_id])
    assert deliver(client, run, starting, webhook_id="a").status_code == 503
    assert deliver(client, run, starting, webhook_id="b").status_code == 503
    assert len(secret_fetches(replicate)) == 1
    from django.core.cache import cache

    cache.delete("replicate:webhook-secret:failed")  # REPLICATE_SECRET_FAILURE_SECONDS later
    assert deliver(client, run, starting, webhook_id="c").status_code == 204


def test_a_signed_body_that_is_not_a_json_object_answers_400(replicate, run_on_commit, client):
    run = started_run(run_on_commit)
    for raw in (b"[1, 2]", b'"text"', b"null", b"{not json", json.dumps({"status": "succeeded"}).encode()):
        assert deliver(client, run, None, raw=raw, webhook_id=f"m{len(raw)}").status_code == 400, raw
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.STARTING


def test_webhooks_are_rate_limited_per_address(replicate, run_on_commit, client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "provider_webhook": "3/minute"}
    run = started_run(run_on_commit)
    answers = [deliver(client, run, {"id": "x"}, secret="").status_code for _ in range(5)]
    assert answers == [401, 401, 401, 429, 429]


def test_retries_running_out_while_submitting_a_never_taken_run_fail_it_with_an_email(replicate):
    from training.tests.test_leases import queued_run

    run = queued_run()
    TrainingRun.objects.filter(id=run.id).update(status=TrainingRun.Status.SUBMITTING, dataset_url="https://x/y.zip")
    services.training_give_up(run_id=run.id, error=TransientProviderError("Replicate answered 503"))
    run.refresh_from_db()
    assert (run.status, run.error_kind) == (TrainingRun.Status.FAILED, "provider_down")
    assert "Replicate answered 503" in run.error
