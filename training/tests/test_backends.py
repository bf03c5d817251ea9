"""The Replicate training backend: the real replicate client against a local stand-in of Replicate's HTTP API."""

import pytest
from django.core import mail

from standins.replicate import lora_tar, now_iso
from training import services
from training.models import TrainingRun
from training.tests.factories import poll_now, ready_project, started_run

pytestmark = pytest.mark.django_db


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


def crashed_submission():
    """A run whose submitting attempt packaged the dataset, marked the run and got the training
    accepted, but died before recording the provider's id; returns the run and that training."""
    run = services.training_start(project=ready_project())  # the submit task is not run
    backend = services.backend_for("replicate")
    name = services.training_package_dataset(run=run)
    url = backend.dataset_url(run=run, dataset_name=name)
    TrainingRun.objects.filter(id=run.id).update(dataset=name, dataset_url=url, status=TrainingRun.Status.SUBMITTING)
    run.refresh_from_db()
    return run, backend.submit(run=run, dataset_url=url, webhook_url=None)


def test_a_crash_after_the_provider_accepted_does_not_start_a_second_training(replicate, run_on_commit):
    run, accepted = crashed_submission()
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
    run, accepted = crashed_submission()
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
