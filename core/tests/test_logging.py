"""Structured logs: JSON lines with request and task ids, carried into Celery, with secrets redacted."""

import io
import json
import logging
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.tests.factories import UserFactory
from core import logging as log_context
from core.logging import ContextFilter, JsonFormatter, RedactingFilter
from generation import services as generation_services
from library.models import LibraryItem
from photoagent.celery import app as celery_app
from training.models import TrainingRun

logger = logging.getLogger("photoagent.tests")


def capture_json_lines(logger_name: str = ""):
    """What the console handler writes with LOG_FORMAT=json (settings.LOGGING: the same filters and
    formatter), for the records reaching this logger; returns a reader and the handler to remove."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    logging.getLogger(logger_name).addHandler(handler)
    return (lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]), handler


@pytest.fixture
def log_lines():
    read, handler = capture_json_lines()
    yield read
    logging.getLogger().removeHandler(handler)


def test_a_line_is_one_json_object_with_the_context_ids(log_lines):
    token = log_context.bind(request_id="req-1", user_id=7)
    try:
        logger.warning("first %s\nsecond line", "part")
    finally:
        log_context.unbind(token)
    logger.warning("outside")
    inside, outside = log_lines()
    assert inside["message"] == "first part\nsecond line"
    assert inside["level"] == "WARNING"
    assert inside["logger"] == "photoagent.tests"
    assert inside["timestamp"].endswith("+00:00")
    assert (inside["request_id"], inside["user_id"]) == ("req-1", 7)
    assert "request_id" not in outside
    assert "user_id" not in outside


def test_a_traceback_stays_inside_its_line(log_lines):
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("it failed")
    (line,) = log_lines()
    assert line["message"] == "it failed"
    assert "ValueError: boom" in line["exception"]


# Redaction
# ------------------------------------------------------------------------------

R8 = "r8_" + "Ab3" * 12 + "x"
HF = "hf_" + "QwErTy" * 6
SENDGRID = "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"


def presigned_lora_url(settings):
    settings.AWS_STORAGE_BUCKET_NAME = "photoagent-media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "photoagent-media",
                "region_name": "eu-west-1",
                "access_key": "AKIAIOSFODNN7EXAMPLE",
                "secret_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "signature_version": "s3v4",
                "querystring_auth": True,
            },
        },
    }
    url = generation_services.lora_source(
        run=TrainingRun(id=7, lora_file="users/1/training/run-7/lora.safetensors")
    ).url
    assert "X-Amz-Signature=" in url
    return url, url.split("?", 1)[1], "photoagent-media"


def signed_lora_url(settings):
    settings.AWS_STORAGE_BUCKET_NAME = ""
    settings.HF_TOKEN = ""
    url = generation_services.lora_source(run=TrainingRun(id=7)).url
    token = url.split("/loras/")[1].split("/")[0]
    return url, token, "/lora.safetensors"


def verification_link(settings):
    token = account_services.user_make_verification_token(user=UserFactory.build(id=3))
    return settings.SITE_URL + reverse("accounts:verify_email", kwargs={"token": token}), token, "/accounts/verify/"


def password_reset_link(settings):
    user = UserFactory.build(id=3, last_login=timezone.now())
    token = default_token_generator.make_token(user)
    path = reverse("accounts:password_reset_confirm", kwargs={"uidb64": "Mw", "token": token})
    return f"GET {path}", token, "/accounts/password/reset/"


def share_link(settings):
    token = "Zq8" * 11
    return settings.SITE_URL + reverse("share:page", kwargs={"token": token}), token, "/s/"


SECRETS = {
    "replicate token": lambda settings: (f"using token {R8} now", R8, "using token"),
    "hugging face token": lambda settings: (f"hub login {HF}", HF, "hub login"),
    "sendgrid key": lambda settings: (f"key={SENDGRID}", SENDGRID, "key="),
    "bearer header": lambda settings: ("{'Authorization': 'Bearer s3cr3t-t0k3n.value'}", "s3cr3t-t0k3n", "Bearer"),
    "token header": lambda settings: ("Authorization: Token s3cr3t-t0k3n", "s3cr3t-t0k3n", "Authorization"),
    "our api token": lambda settings: (
        "pat_0123456789ab_c2VjcmV0LXBhcnQtb2YtdGhlLXRva2Vu",
        "c2VjcmV0",
        "pat_0123456789ab_",
    ),
    "webhook secret": lambda settings: ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8G", "whsec_"),
    "aws access key id": lambda settings: ("key AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "key"),
    "presigned s3 url (lora on s3)": presigned_lora_url,
    "signed lora url (our own storage)": signed_lora_url,
    "email verification link": verification_link,
    "password reset link": password_reset_link,
    "share link": share_link,
}


@pytest.mark.parametrize("case", SECRETS)
def test_secrets_never_reach_the_log(case, settings, log_lines):
    text, secret, kept = SECRETS[case](settings)
    logger.info("fetching %s", text)
    try:
        raise RuntimeError(f"request failed: {text}")
    except RuntimeError:
        logger.exception("and again")

    output = json.dumps(log_lines())
    assert secret not in output
    assert "[REDACTED]" in log_lines()[0]["message"]
    assert "[REDACTED]" in log_lines()[1]["exception"]
    # What is not secret stays, so the line still says what happened.
    assert kept in log_lines()[0]["message"]


def test_ordinary_words_are_left_alone(log_lines):
    message = "API token create failed for hf_repo_id=acme/mug; Token refresh at /s/abc/ (SG.x)"
    logger.info(message)
    assert log_lines()[0]["message"] == message


# Requests
# ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_request_gets_an_id_in_its_response_and_its_log_line(client, log_lines):
    response = client.get("/")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    (line,) = [line for line in log_lines() if line["logger"] == "core.requests"]
    assert line["message"] == "GET / 200"
    assert (line["request_id"], line["method"], line["path"], line["status"]) == (request_id, "GET", "/", 200)
    assert "user_id" not in line
    assert client.get("/")["X-Request-ID"] != request_id


@pytest.mark.django_db
def test_a_sane_incoming_request_id_is_kept_and_an_odd_one_replaced(client):
    assert client.get("/", HTTP_X_REQUEST_ID="lb-7f3a.1:2")["X-Request-ID"] == "lb-7f3a.1:2"
    for odd in ("two words", "x" * 200, 'a"}{"level":"CRITICAL', "é"):
        replaced = client.get("/", HTTP_X_REQUEST_ID=odd)["X-Request-ID"]
        assert replaced != odd
        assert len(replaced) == 32


@pytest.mark.django_db
def test_request_lines_name_the_user_once_the_request_looked_them_up(client, log_lines):
    user = UserFactory()
    client.force_login(user)
    client.get("/projects/")
    (line,) = [line for line in log_lines() if line["logger"] == "core.requests"]
    assert line["user_id"] == user.id


@pytest.mark.django_db
def test_the_request_line_redacts_a_signed_link_in_the_path(client, settings, log_lines):
    url, token, _ = signed_lora_url(settings)
    client.get(url.removeprefix(settings.SITE_URL))
    (line,) = [line for line in log_lines() if line["logger"] == "core.requests"]
    assert token not in json.dumps(line)
    assert line["path"] == "/generation/loras/[REDACTED]/lora.safetensors"


# Tasks
# ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_task_lines_carry_the_task_and_the_job_it_works_on(log_lines):
    from generation.tasks import sync_generation

    token = log_context.bind(request_id="req-42")
    try:
        sync_generation.delay(987654)  # eager in tests; no such job, so it does nothing
        logger.info("after the task")
    finally:
        log_context.unbind(token)
    task_line = next(line for line in log_lines() if line.get("task_name") == "generation.sync_generation")
    assert task_line["job_id"] == 987654
    assert task_line["request_id"] == "req-42"
    assert task_line["task_id"]
    after = log_lines()[-1]
    assert after["message"] == "after the task"
    assert after["request_id"] == "req-42"
    assert "task_id" not in after
    assert "job_id" not in after


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_logs_with_the_id_of_the_request_that_enqueued_the_task(
    operator_client, monkeypatch, django_user_model
):
    operator = django_user_model.objects.get(is_superuser=True)
    item = LibraryItem.objects.create(
        user=operator, kind=LibraryItem.Kind.PHOTO, created_at=timezone.now() - timedelta(hours=1)
    )
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    celery_app.control.purge()
    # An operator re-drives the library: its reconcile enqueues the item's analysis.
    response = operator_client.post(
        "/admin/background-work/", {"kind": "library"}, HTTP_X_REQUEST_ID="ops-check-1", follow=True
    )
    assert "Re-driven 1 library item." in response.content.decode()
    # What the analysis finds is beside the point here: without its item it ends at once.
    LibraryItem.objects.filter(id=item.id).delete()

    # The worker's start applies settings.LOGGING again, replacing the root logger's handlers:
    # listen on Celery's task logger instead.
    log_lines, handler = capture_json_lines("celery.app.trace")
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                done = [line for line in log_lines() if "succeeded" in line["message"]]
                if done:
                    break
                time.sleep(0.2)
    finally:
        logging.getLogger("celery.app.trace").removeHandler(handler)

    assert done, log_lines()
    line = done[0]
    assert line["task_name"] == "library.analyse_item"
    assert line["item_id"] == item.id
    assert line["request_id"] == "ops-check-1"
    assert line["user_id"] == operator.id
    assert line["task_id"]


# Django's own request logging, as configured (a fresh interpreter: logging is set up at start)
# ------------------------------------------------------------------------------

DJANGO_OWN_LINES = """
import logging
import django
django.setup()
from django.conf import settings
from django.test import Client
# Pages render without collectstatic's manifest (DEBUG off uses it).
static = {{"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
settings.STORAGES = {{**settings.STORAGES, "staticfiles": static}}
client = Client()
client.get("/generation/loras/{lora}/lora.safetensors")  # django.request: Not Found: <path>
client.get("/accounts/verify/{verify}/")  # django.request: Bad Request: <path>
# What runserver writes for each request (django.core.servers.basehttp).
logging.getLogger("django.server").warning('"GET %s HTTP/1.1" 404 179', "/s/{share}/")
"""


@pytest.mark.parametrize("debug", ["true", "false"])
@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_djangos_own_request_lines_are_redacted_in_every_mode(tmp_path, debug, log_format):
    secrets = {"lora": "LoraSecret" + "x" * 30, "verify": "VerifySecret" + "y" * 30, "share": "ShareSecret" + "z" * 30}
    result = subprocess.run(
        [sys.executable, "-c", DJANGO_OWN_LINES.format(**secrets)],
        cwd=Path(__file__).resolve().parents[2],
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "photoagent.settings.base",
            "DATA_DIR": str(tmp_path),
            "DEBUG": debug,
            "LOG_FORMAT": log_format,
            "ALLOWED_HOSTS": "testserver",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Not Found: /generation/loras/[REDACTED]/lora.safetensors" in output
    assert "Bad Request: /accounts/verify/[REDACTED]/" in output
    assert "GET /s/[REDACTED]/ HTTP/1.1" in output
    for secret in secrets.values():
        assert secret not in output
