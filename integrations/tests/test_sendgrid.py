"""The real sendgrid client, pointed at a local stand-in that speaks SendGrid's v3 HTTP API."""

import time

import jsonschema
import pytest
from django.core import mail

from accounts.emails import send_templated_email
from core.exceptions import PermanentProviderError, TransientProviderError
from standins.sendgrid import API_KEY, MAIL_SEND_SCHEMA


def send_welcome():
    send_templated_email(
        to="Ann Lee <ann@example.com>",
        template="verify_email",
        context={
            "user": {"get_short_name": "Ann"},
            "link": "http://testserver/accounts/verify/abc/",
            "valid_hours": 72,
        },
    )


def test_mail_is_posted_to_the_v3_api_in_the_documented_shape(sendgrid):
    send_welcome()
    assert mail.outbox == []
    [request] = sendgrid.requests
    assert request["path"] == "/v3/mail/send"
    assert request["headers"]["Authorization"] == f"Bearer {API_KEY}"
    jsonschema.Draft202012Validator(MAIL_SEND_SCHEMA).validate(request["json"])
    body = request["json"]
    assert body["personalizations"] == [{"to": [{"email": "ann@example.com", "name": "Ann Lee"}]}]
    assert body["from"] == {"email": "noreply@photoagent.local", "name": "PhotoAgent"}
    assert body["subject"] == "Confirm your email for PhotoAgent"
    assert [part["type"] for part in body["content"]] == ["text/plain", "text/html"]
    assert "http://testserver/accounts/verify/abc/" in body["content"][0]["value"]
    assert body["headers"] == {"Content-Language": "en"}


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_transient(sendgrid, status):
    sendgrid.responses.append((status, {"errors": [{"message": "try later"}]}, 0))
    with pytest.raises(TransientProviderError) as error:
        send_welcome()
    assert error.value.status_code == status


@pytest.mark.parametrize("status", [400, 401, 403])
def test_bad_requests_and_credentials_are_permanent(sendgrid, status):
    sendgrid.responses.append((status, {"errors": [{"message": "nope", "field": None}]}, 0))
    with pytest.raises(PermanentProviderError):
        send_welcome()


def test_a_hung_api_times_out_as_transient(sendgrid):
    sendgrid.responses.append((202, None, 2.5))
    started = time.monotonic()
    with pytest.raises(TransientProviderError):
        send_welcome()
    assert time.monotonic() - started < 2.4


def test_an_unreachable_api_is_transient(sendgrid, settings):
    settings.SENDGRID_API_HOST = "http://127.0.0.1:1"
    with pytest.raises(TransientProviderError):
        send_welcome()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retries_the_email_after_a_transient_failure(sendgrid, monkeypatch):
    from celery.contrib.testing.worker import start_worker

    from accounts import services
    from accounts.tasks import send_account_email
    from accounts.tests.factories import UserFactory
    from photoagent.celery import app as celery_app

    user = UserFactory(unverified=True)
    sendgrid.responses.append((503, None, 0))
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setattr(send_account_email, "retry_backoff", 1)  # seconds, so the test stays short
    celery_app.control.purge()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        services.user_resend_verification(email=user.email)  # records the email and sends its task
        deadline = time.monotonic() + 30
        while len(sendgrid.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
    # The first attempt got 503; the retry delivered the email, once.
    assert [r["json"]["personalizations"][0]["to"][0]["email"] for r in sendgrid.requests] == [user.email] * 2
