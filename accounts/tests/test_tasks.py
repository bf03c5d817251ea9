"""The account emails: recorded with the request, sent by their task, re-driven by the reconcile
task after a broker outage, one email per request however often a message arrives."""

import logging
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts import services, tasks
from accounts.models import AccountEmail, User
from accounts.tests.factories import UserFactory
from core.exceptions import PermanentProviderError, TransientProviderError

pytestmark = pytest.mark.django_db

PASSWORD = "a long sign-up passphrase"


def later(seconds: float = 0) -> timezone.datetime:
    """When the reconcile task runs: after the re-drive delay (and `seconds` more)."""
    from django.conf import settings

    return timezone.now() + timedelta(seconds=settings.REDRIVE_AFTER_SECONDS + 1 + seconds)


def test_a_broker_outage_at_sign_up_still_ends_in_one_email_once_the_reconcile_runs(
    broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.user_signup(email="new@example.com", display_name="", password=PASSWORD)
    assert mail.outbox == [], "the message was lost with the broker"
    broker_down()  # the broker is back
    with django_capture_on_commit_callbacks(execute=True):
        assert services.account_email_reconcile(now=later()) == 1
    assert [message.to for message in mail.outbox] == [[user.email]]
    assert "Confirm your email" in mail.outbox[0].subject
    # Reconciling again sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.account_email_reconcile(now=later(600)) == 0
    assert len(mail.outbox) == 1


def test_sending_twice_sends_one_email(django_capture_on_commit_callbacks):
    user = UserFactory(unverified=True)
    with django_capture_on_commit_callbacks(execute=False):
        services.user_resend_verification(email=user.email)
    email = AccountEmail.objects.get(user=user)
    tasks.send_account_email.delay(email.id)
    tasks.send_account_email.delay(email.id)  # redelivered, or re-driven meanwhile
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.sent_at is not None
    assert email.attempts == 1


def test_each_request_gets_its_own_email(django_capture_on_commit_callbacks):
    user = UserFactory(unverified=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.user_resend_verification(email=user.email)
        services.user_resend_verification(email=user.email)
    assert [message.to for message in mail.outbox] == [[user.email], [user.email]]


def test_sending_as_another_kind_of_email_sends_nothing(django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=False):
        services.user_request_password_reset(email=user.email)
    email = AccountEmail.objects.get(user=user)
    assert services.account_email_send(email_id=email.id, kind=AccountEmail.Kind.VERIFICATION) is False
    assert mail.outbox == []
    tasks.send_account_email.delay(email.id)  # the task sends the email as recorded
    assert len(mail.outbox) == 1
    assert "password" in mail.outbox[0].subject.lower()


def test_a_password_reset_sent_late_carries_a_link_that_works(broker_down, client, django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": user.email})
    broker_down()
    # The password changes before the email goes out: a token made at request time would be void.
    user.set_password("another passphrase entirely")
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.account_email_reconcile(now=later())
    link = re.search(r"http://testserver(\S+/reset/\S+/)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    assert b"new password" in response.content.lower()


def test_a_transient_failure_is_retried_then_left_to_the_reconcile_task(
    monkeypatch, django_capture_on_commit_callbacks
):
    user = UserFactory(unverified=True)
    calls = []

    def failing(**kwargs):
        calls.append(kwargs)
        raise TransientProviderError("SendGrid answered 503")

    monkeypatch.setattr(services, "send_templated_email", failing)
    monkeypatch.setattr(tasks.send_account_email, "max_retries", 0)
    with django_capture_on_commit_callbacks(execute=False):
        services.user_resend_verification(email=user.email)
    email = AccountEmail.objects.get(user=user)
    assert tasks.send_account_email.apply(args=[email.id], throw=False).failed()
    assert len(calls) == 1
    email.refresh_from_db()
    assert (email.sent_at, email.gave_up_at, email.claimed_until) == (None, None, None)
    assert email.error == "SendGrid answered 503"
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.account_email_reconcile(now=later()) == 1
    assert len(mail.outbox) == 1


def test_a_permanent_refusal_ends_the_email(monkeypatch, django_capture_on_commit_callbacks):
    user = UserFactory(unverified=True)

    def refused(**kwargs):
        raise PermanentProviderError("SendGrid answered 400: bad address")

    monkeypatch.setattr(services, "send_templated_email", refused)
    with django_capture_on_commit_callbacks(execute=False):
        services.user_resend_verification(email=user.email)
    email = AccountEmail.objects.get(user=user)
    # As a worker runs it: the failure reaches the task's give-up hook.
    assert tasks.send_account_email.apply(args=[email.id], throw=False).failed()
    email.refresh_from_db()
    assert email.gave_up_at is not None
    assert "bad address" in email.error
    assert services.account_email_reconcile(now=later()) == 0


def test_the_reconcile_task_gives_up_after_the_deadline_and_says_so(broker_down, caplog):
    user = UserFactory(unverified=True)
    services.user_resend_verification(email=user.email)
    broker_down()
    caplog.set_level(logging.WARNING, logger="accounts.services")
    assert services.account_email_reconcile(now=timezone.now() + services.ACCOUNT_EMAIL_DEADLINE + timedelta(1)) == 0
    email = AccountEmail.objects.get(user=user)
    assert email.gave_up_at is not None
    assert email.sent_at is None
    assert "gave up on verification email" in caplog.text
    assert mail.outbox == []


def test_an_email_no_longer_needed_is_not_sent(django_capture_on_commit_callbacks):
    user = UserFactory(unverified=True)
    with django_capture_on_commit_callbacks(execute=False):
        services.user_resend_verification(email=user.email)
    services.user_mark_email_verified(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        services.account_email_reconcile(now=later())
    assert mail.outbox == []
    assert AccountEmail.objects.get(user=user).gave_up_at is not None


def test_the_reconcile_task_is_on_beat():
    from django.conf import settings

    assert "accounts.reconcile_emails" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    tasks.reconcile_emails.delay()  # runs, with nothing to do


def test_deleting_an_account_deletes_its_emails():
    user = UserFactory(unverified=True)
    services.user_resend_verification(email=user.email)
    User.objects.filter(id=user.id).delete()
    assert not AccountEmail.objects.exists()


# Messages queued before the emails were recorded (they name the user)
# ------------------------------------------------------------------------------

LEGACY = {
    "accounts.send_verification_email": (AccountEmail.Kind.VERIFICATION, {"unverified": True}, "Confirm your email"),
    "accounts.send_signup_notice": (AccountEmail.Kind.SIGNUP_NOTICE, {}, ""),
    "accounts.send_password_reset_email": (AccountEmail.Kind.PASSWORD_RESET, {}, ""),
}


@pytest.mark.parametrize("name", LEGACY)
def test_a_message_queued_before_the_records_still_sends_its_email_once(name, django_capture_on_commit_callbacks):
    from photoagent.celery import app as celery_app

    kind, traits, subject = LEGACY[name]
    user = UserFactory(**traits)
    legacy = celery_app.tasks[name]
    with django_capture_on_commit_callbacks(execute=True):
        legacy.delay(user.id)
        legacy.delay(user.id)  # redelivered
    email = AccountEmail.objects.get(user=user)
    assert email.kind == kind
    assert email.sent_at is not None
    assert [message.to for message in mail.outbox] == [[user.email]]
    assert subject in mail.outbox[0].subject


def test_a_message_queued_before_the_records_for_a_deleted_user_sends_nothing(django_capture_on_commit_callbacks):
    user = UserFactory(unverified=True)
    user_id = user.id
    user.delete()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.send_verification_email.delay(user_id)
    assert not AccountEmail.objects.exists()
    assert mail.outbox == []


def test_a_message_queued_before_the_records_survives_a_broker_outage(broker_down, django_capture_on_commit_callbacks):
    user = UserFactory(unverified=True)
    with django_capture_on_commit_callbacks(execute=True):
        # The old message reaches a worker: the email is recorded, and its own message is lost.
        tasks.send_verification_email(user.id)
    assert mail.outbox == []
    assert AccountEmail.objects.filter(user=user, sent_at__isnull=True).count() == 1
    broker_down()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.account_email_reconcile(now=later()) == 1
    assert len(mail.outbox) == 1
