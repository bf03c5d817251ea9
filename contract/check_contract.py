"""`make contract`: the training and generation flows, with the real clients, checked against the
official specs.

Replicate traffic goes through Stoplight Prism in proxy mode (`prism proxy --errors`) with the
official OpenAPI document, in front of our Replicate stand-in; every SendGrid request body is
validated against SendGrid's v3 Mail Send schema. Writes var/contract.json for the summary line.
"""

import json
import socket
import subprocess
import time
from pathlib import Path

import jsonschema
import pytest
from django.core import mail  # noqa: F401 - the locmem outbox is not used: SendGrid's stand-in is

from generation import services as generation_services
from generation.models import Generation
from generation.tests.factories import trained_model
from standins.replicate import start_replicate_standin
from standins.sendgrid import MAIL_SEND_SCHEMA
from training import services
from training.models import TrainingRun
from training.tests.factories import poll_now, ready_project

ROOT = Path(__file__).resolve().parent
PRISM = ROOT / "node_modules" / ".bin" / "prism"
SPEC = ROOT / "specs" / "replicate-openapi.v1-paths.json"
RESULT = ROOT.parent / "var" / "contract.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def prism():
    standin = start_replicate_standin()
    port = free_port()
    log = open(ROOT.parent / "var" / "prism.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(PRISM), "proxy", "-h", "127.0.0.1", "-p", str(port), "--errors", str(SPEC), standin.url],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.2)
    yield standin, f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
    log.close()
    standin.shutdown()


@pytest.fixture
def providers(prism, sendgrid, settings):
    standin, prism_url = prism
    settings.TRAINING_BACKEND = "training.backends.replicate.ReplicateTrainingBackend"
    settings.GENERATION_BACKEND = "generation.backends.replicate.ReplicateGenerationBackend"
    settings.GENERATION_BASE_BACKEND = "generation.backends.replicate.ReplicateGenerationBackend"
    settings.REPLICATE_API_TOKEN = "r8_standin"
    settings.REPLICATE_BASE_URL = prism_url
    settings.REPLICATE_OWNER = "acme"
    settings.REPLICATE_WEBHOOK_SECRET = ""
    # A public HTTPS address, so training and prediction requests carry the webhook fields too.
    settings.SITE_URL = "https://photoagent.example.com"
    return standin, sendgrid


@pytest.mark.django_db
def test_training_traffic_conforms_to_the_specs(providers, django_capture_on_commit_callbacks):
    standin, sendgrid = providers

    def on_commit():
        return django_capture_on_commit_callbacks(execute=True)

    # Succeeded: create model, upload dataset, start, poll, publish, email.
    with on_commit():
        run = services.training_start(project=ready_project())
    run.refresh_from_db()
    standin.advance(
        run.provider_training_id, "processing", logs="flux_train_replicate: 5/10 [00:01<00:01, loss: 0.5]\n"
    )
    poll_now(run.id)
    standin.advance(run.provider_training_id, "succeeded")
    with on_commit():
        poll_now(run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED

    # Failed: the failure email.
    with on_commit():
        failed = services.training_start(project=ready_project())
    failed.refresh_from_db()
    standin.advance(failed.provider_training_id, "failed", error="ValueError: input_images must be a zip file")
    with on_commit():
        poll_now(failed.id)

    # Canceled by the user, and a crashed submission found again by listing trainings.
    with on_commit():
        canceled = services.training_start(project=ready_project())
    services.training_cancel(run=canceled)
    backend = services.backend_for("replicate")
    assert backend.find_submitted(dataset_url="https://example.invalid/none.zip") is None
    backend.webhook_secret()

    email_violations = []
    for request in sendgrid.requests:
        errors = sorted(jsonschema.Draft202012Validator(MAIL_SEND_SCHEMA).iter_errors(request["json"]), key=str)
        email_violations += [f"sendgrid: {error.message}" for error in errors]
    RESULT.write_text(json.dumps({"emails": len(sendgrid.requests), "email_violations": email_violations}))
    assert len(sendgrid.requests) == 2


@pytest.mark.django_db
def test_generation_traffic_conforms_to_the_spec(providers, django_capture_on_commit_callbacks):
    """Predictions: create (Prefer: wait, Cancel-After, webhook), get, list and cancel, with
    responses in every status and with removed data."""
    from django.utils import timezone

    standin, _ = providers

    def on_commit():
        return django_capture_on_commit_callbacks(execute=True)

    def poll(generation):
        Generation.objects.filter(id=generation.id).update(next_poll_at=timezone.now())
        with on_commit():
            generation_services.generation_sync(generation_id=generation.id)
        generation.refresh_from_db()
        return generation

    run = trained_model(backend="replicate")

    def start(training_run, prompt):
        with on_commit():
            generation = generation_services.generation_create(
                user=run.project.owner, training_run=training_run, prompt=prompt, num_outputs=2
            )
        generation.refresh_from_db()
        return generation

    # Finished within Prefer: wait; then a base-model job, also finished at once.
    standin.finish_predictions = True
    quick = start(run, "on a marble counter")
    assert quick.status == Generation.Status.SUCCEEDED, quick.error
    base = start(None, "a lighthouse at dusk")
    assert base.status == Generation.Status.SUCCEEDED, base.error
    standin.finish_predictions = False

    # Polled: starting, processing, succeeded.
    polled = start(run, "in a forest")
    polled = poll(polled)
    standin.advance_prediction(polled.provider_id, "processing", logs="0%|          | 0/28\n")
    polled = poll(polled)
    standin.advance_prediction(polled.provider_id, "succeeded")
    polled = poll(polled)
    assert polled.status == Generation.Status.SUCCEEDED, polled.error

    # Failed and aborted at the provider, and outputs removed before we fetched them.
    for status, error in (("failed", "ValueError: LoRA keys do not match"), ("aborted", None)):
        ended = start(run, f"ends {status}")
        standin.advance_prediction(ended.provider_id, status, error=error)
        assert poll(ended).status == Generation.Status.FAILED
    removed = start(run, "removed")
    standin.advance_prediction(removed.provider_id, "succeeded")
    standin.remove_outputs(removed.provider_id)
    assert (
        poll(removed).error == "The provider deleted the images before we could fetch them. Try again (same settings)."
    )

    # Canceled by the user, and a crashed submission found again by listing predictions.
    canceled = start(run, "canceled")
    assert generation_services.generation_cancel(generation=canceled).status == Generation.Status.CANCELED
    crashed = generation_services.generation_create(
        user=run.project.owner, training_run=run, prompt="crashed", num_outputs=1
    )
    Generation.objects.filter(id=crashed.id).update(status=Generation.Status.RUNNING, started_at=timezone.now())
    crashed.refresh_from_db()
    backend = generation_services.backend_for("replicate")
    accepted = backend.submit(generation=crashed, lora=generation_services.lora_source(run=run), webhook_url=None)
    generation_services.generation_run(generation_id=crashed.id)
    crashed.refresh_from_db()
    assert crashed.provider_id == accepted.id

    creates = standin.prediction_creates()
    assert len(creates) == 8
    assert all(call.headers["prefer"].startswith("wait=") and call.headers["cancel-after"] for call in creates)
    assert all(call.body["webhook"].startswith("https://photoagent.example.com/") for call in creates[:-1])
