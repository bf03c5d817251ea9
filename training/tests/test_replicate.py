"""The real replicate client against a local stand-in of Replicate's HTTP API."""

import json

import pytest
from django.core import mail

from standins.replicate import lora_tar, now_iso, sign, start_replicate_standin
from training import services
from training.models import TrainingRun
from training.tests.factories import poll_now, ready_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def replicate(settings):
    server = start_replicate_standin()
    settings.TRAINING_BACKEND = "training.backends.replicate.ReplicateTrainingBackend"
    settings.REPLICATE_API_TOKEN = "r8_standin"
    settings.REPLICATE_BASE_URL = server.url
    settings.REPLICATE_OWNER = "acme"
    settings.REPLICATE_WEBHOOK_SECRET = ""
    settings.REPLICATE_TIMEOUT = 5
    yield server
    server.shutdown()
    server.server_close()


def started_run(run_on_commit) -> TrainingRun:
    project = ready_project()
    with run_on_commit():
        run = services.training_start(project=project)
    run.refresh_from_db()
    return run


def test_happy_path_by_polling(replicate, run_on_commit):
    run = started_run(run_on_commit)
    assert run.status == TrainingRun.Status.STARTING
    [create_model] = replicate.created("/v1/models$")
    assert create_model[2]["visibility"] == "private"
    [submission] = replicate.created("/trainings$")
    body = submission[2]
    assert body["destination"] == create_model[2]["owner"] + "/" + create_model[2]["name"]
    assert body["input"]["trigger_word"] == run.trigger_word
    assert body["input"]["input_images"].startswith("https://api.replicate.com/v1/files/")
    assert "webhook" not in body  # no public HTTPS address in tests: polling drives the run

    replicate.advance(
        run.provider_training_id,
        "processing",
        logs="flux_train_replicate:  40%| 400/1000 [01:00<01:30, loss: 4.1e-01]\n",
    )
    poll_now(run.id)
    run.refresh_from_db()
    assert (run.status, run.progress, run.loss_points) == (TrainingRun.Status.TRAINING, 40, [[400, 0.41]])

    replicate.advance(run.provider_training_id, "succeeded", logs="done\n")
    with run_on_commit():
        poll_now(run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert run.lora_file
    assert run.gpu_seconds == 512.5
    assert str(run.actual_cost) == "0.78"
    assert [m.subject for m in mail.outbox] == [f"Your model {run.project.name} is ready"]


def test_failure_shows_the_providers_reason_and_emails_once(replicate, run_on_commit):
    run = started_run(run_on_commit)
    replicate.advance(
        run.provider_training_id, "failed", error="Traceback ...\nValueError: input_images must be a zip file"
    )
    with run_on_commit():
        poll_now(run.id)
        poll_now(run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert "input_images must be a zip file" in run.error
    assert len(mail.outbox) == 1
    assert "did not finish" in mail.outbox[0].subject
    run.project.refresh_from_db()
    assert run.project.status == "ready"


def test_aborted_is_handled_although_the_client_models_reject_it(replicate, run_on_commit):
    run = started_run(run_on_commit)
    replicate.advance(run.provider_training_id, "aborted")
    with run_on_commit():
        poll_now(run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert "deadline" in run.error


def test_canceled_at_the_provider_ends_with_the_reason_and_one_email(replicate, run_on_commit):
    run = started_run(run_on_commit)
    replicate.advance(run.provider_training_id, "processing")
    with run_on_commit():
        poll_now(run.id)
    replicate.advance(run.provider_training_id, "canceled")
    with run_on_commit():
        poll_now(run.id)
        poll_now(run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELED
    assert run.error.startswith("The provider canceled this training (you did not ask for it).")
    assert not run.lora_file
    assert len(mail.outbox) == 1
    assert "did not finish" in mail.outbox[0].subject
    assert "The provider canceled this training" in mail.outbox[0].body


def test_cancel_from_the_website_cancels_at_the_provider(replicate, run_on_commit, client):
    run = started_run(run_on_commit)
    client.force_login(run.project.owner)
    client.post(f"/training/runs/{run.id}/cancel/")
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELED
    assert replicate.trainings[run.provider_training_id]["status"] == "canceled"


@pytest.mark.parametrize("status", [401, 404, 422])
def test_permanent_errors_fail_the_run_with_a_message(replicate, run_on_commit, status):
    replicate.fail_next(r"POST /v1/models/.*/trainings", status)
    run = started_run(run_on_commit)
    assert run.status == TrainingRun.Status.FAILED
    assert f"Replicate answered {status}" in run.error
    assert replicate.trainings == {}


def test_a_transient_error_is_retried_without_submitting_twice(replicate, run_on_commit):
    from celery.exceptions import Retry

    replicate.fail_next(r"POST /v1/models/.*/trainings", 503)
    project = ready_project()
    with pytest.raises(Retry), run_on_commit():
        services.training_start(project=project)
    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.SUBMITTING
    services.training_submit(run_id=run.id)  # the retry, as the worker delivers it
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.STARTING
    assert len(replicate.trainings) == 1


def test_a_crash_after_the_provider_accepted_does_not_start_a_second_training(replicate, run_on_commit):
    project = ready_project()
    run = services.training_start(project=project)  # the submit task is not run
    backend = services.backend_for("replicate")
    # The crashed attempt packaged the dataset, marked the run and got the training accepted,
    # but died before recording the provider's id.
    name = services.training_package_dataset(run=run)
    url = backend.dataset_url(run=run, dataset_name=name)
    TrainingRun.objects.filter(id=run.id).update(dataset=name, dataset_url=url, status=TrainingRun.Status.SUBMITTING)
    run.refresh_from_db()
    accepted = backend.submit(run=run, dataset_url=url, webhook_url=None)
    services.training_submit(run_id=run.id)
    run.refresh_from_db()
    assert run.provider_training_id == accepted.id
    assert len(replicate.created("/trainings$")) == 1


def other_trainings(replicate, count: int, *, created_at: str | None = None) -> None:
    """Trainings of other runs, started after (listed before) those already at the stand-in."""
    for number in range(count):
        replicate.trainings[f"other{number}"] = {
            "id": f"other{number}",
            "status": "succeeded",
            "input": {"input_images": f"https://elsewhere.example/{number}.zip"},
            "created_at": created_at or now_iso(),
        }


def test_a_crashed_submission_is_found_past_the_first_page_of_trainings(replicate, run_on_commit):
    project = ready_project()
    run = services.training_start(project=project)  # the submit task is not run
    backend = services.backend_for("replicate")
    name = services.training_package_dataset(run=run)
    url = backend.dataset_url(run=run, dataset_name=name)
    TrainingRun.objects.filter(id=run.id).update(dataset=name, dataset_url=url, status=TrainingRun.Status.SUBMITTING)
    run.refresh_from_db()
    accepted = backend.submit(run=run, dataset_url=url, webhook_url=None)
    replicate.page_size = 2
    other_trainings(replicate, 5)  # the crashed attempt's training is on the third page
    services.training_submit(run_id=run.id)
    run.refresh_from_db()
    assert run.provider_training_id == accepted.id
    assert len(replicate.created("/trainings$")) == 1
    pages = [call for call in replicate.requests if call.method == "GET" and call.path == "/v1/trainings"]
    assert len(pages) == 3


def test_finding_a_submission_stops_at_trainings_older_than_it_could_be(replicate):
    from datetime import timedelta

    from django.utils import timezone

    replicate.page_size = 2
    other_trainings(replicate, 6, created_at="2020-01-01T00:00:00Z")
    backend = services.backend_for("replicate")
    since = timezone.now() - timedelta(hours=1)
    assert backend.find_submitted(dataset_url="https://example.invalid/none.zip", since=since) is None
    pages = [call for call in replicate.requests if call.method == "GET" and call.path == "/v1/trainings"]
    assert len(pages) == 1, "the first page already reaches trainings older than the submission"


def test_a_list_longer_than_the_page_bound_is_not_taken_for_not_found(replicate):
    from datetime import timedelta

    from django.utils import timezone

    from core.exceptions import TransientProviderError
    from integrations.replicate import LIST_MAX_PAGES

    replicate.page_size = 1
    other_trainings(replicate, LIST_MAX_PAGES + 1)  # all newer than the submission could be
    backend = services.backend_for("replicate")
    since = timezone.now() - timedelta(hours=1)
    # "Not found" would let a crashed submission be paid for twice: it is "may have" instead.
    with pytest.raises(TransientProviderError):
        backend.find_submitted(dataset_url="https://example.invalid/none.zip", since=since)
    pages = [call for call in replicate.requests if call.method == "GET" and call.path == "/v1/trainings"]
    assert len(pages) == LIST_MAX_PAGES


def test_a_submission_that_cannot_be_looked_up_is_left_to_the_reconcile_task(replicate, run_on_commit):
    from core.exceptions import TransientProviderError
    from integrations.replicate import LIST_MAX_PAGES

    project = ready_project()
    run = services.training_start(project=project)  # the submit task is not run
    backend = services.backend_for("replicate")
    name = services.training_package_dataset(run=run)
    url = backend.dataset_url(run=run, dataset_name=name)
    TrainingRun.objects.filter(id=run.id).update(dataset=name, dataset_url=url, status=TrainingRun.Status.SUBMITTING)
    replicate.page_size = 1
    other_trainings(replicate, LIST_MAX_PAGES + 1)
    services.training_give_up(run_id=run.id, error=TransientProviderError("submitting timed out"))
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUBMITTING, "it may be at the provider: not failed, not resubmitted"
    assert replicate.created("/trainings$") == []


def test_weights_that_are_not_safetensors_fail_the_run(replicate, run_on_commit):
    run = started_run(run_on_commit)
    replicate.advance(run.provider_training_id, "succeeded", tar=lora_tar(b"not safetensors at all"))
    with run_on_commit():
        poll_now(run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert "not safetensors" in run.error


def test_older_trainers_lora_name_is_accepted(replicate, run_on_commit):
    run = started_run(run_on_commit)
    replicate.advance(run.provider_training_id, "succeeded", tar=lora_tar(name="flux_train_replicate.safetensors"))
    with run_on_commit():
        poll_now(run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED


def test_lost_webhooks_are_recovered_by_reconcile(replicate, run_on_commit):
    from datetime import timedelta

    from django.utils import timezone

    run = started_run(run_on_commit)
    replicate.advance(run.provider_training_id, "succeeded")
    TrainingRun.objects.filter(id=run.id).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    with run_on_commit():
        assert services.training_reconcile() == 1
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED


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
