"""`make contract`: the training flow, with the real clients, checked against the official specs.

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

from integrations.tests.test_sendgrid import MAIL_SEND_SCHEMA, SendGridStandIn
from training import services
from training.models import TrainingRun
from training.tests.factories import ready_project
from training.tests.standins import start_replicate_standin

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
def sendgrid(settings):
    import threading

    server = SendGridStandIn()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.EMAIL_BACKEND = "integrations.sendgrid.SendGridEmailBackend"
    settings.SENDGRID_API_KEY = "SG.contract"
    settings.SENDGRID_API_HOST = server.url
    yield server
    server.shutdown()


@pytest.fixture
def providers(prism, sendgrid, settings):
    standin, prism_url = prism
    settings.TRAINING_BACKEND = "training.backends.replicate.ReplicateTrainingBackend"
    settings.REPLICATE_API_TOKEN = "r8_standin"
    settings.REPLICATE_BASE_URL = prism_url
    settings.REPLICATE_OWNER = "acme"
    settings.REPLICATE_WEBHOOK_SECRET = ""
    # A public HTTPS address, so training requests carry the webhook fields too.
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
    services.training_sync(run_id=run.id)
    standin.advance(run.provider_training_id, "succeeded")
    with on_commit():
        services.training_sync(run_id=run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED

    # Failed: the failure email.
    with on_commit():
        failed = services.training_start(project=ready_project())
    failed.refresh_from_db()
    standin.advance(failed.provider_training_id, "failed", error="ValueError: input_images must be a zip file")
    with on_commit():
        services.training_sync(run_id=failed.id)

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
