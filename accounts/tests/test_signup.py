import re
from datetime import timedelta

import pytest
from django.core import mail

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "New.User@example.com",
    "display_name": "Nia",
    "password1": DEFAULT_PASSWORD,
    "password2": DEFAULT_PASSWORD,
}


def verification_link(message) -> str:
    return re.search(r"http://testserver(/accounts/verify/\S+/)", message.body).group(1)


@pytest.fixture
def signed_up(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 302
    return User.objects.get(email="new.user@example.com")


def test_signup_creates_an_unverified_account_and_emails_a_link(signed_up):
    assert signed_up.display_name == "Nia"
    assert not signed_up.is_email_verified
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.user@example.com"]
    assert "Confirm your email" in mail.outbox[0].subject
    assert verification_link(mail.outbox[0])


def test_signup_done_page_names_the_address(client, signed_up):
    response = client.get("/accounts/signup/done/")
    assert b"new.user@example.com" in response.content


def test_unverified_account_cannot_log_in_and_is_told_why(client, signed_up):
    response = client.post("/accounts/login/", {"username": "new.user@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert b"Please verify your email first" in response.content
    assert "_auth_user_id" not in client.session


def test_verification_link_verifies_once_and_then_login_works(client, signed_up):
    link = verification_link(mail.outbox[0])
    response = client.get(link)
    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    signed_up.refresh_from_db()
    first_verified_at = signed_up.email_verified_at
    assert first_verified_at is not None

    client.get(link)  # a second click changes nothing
    signed_up.refresh_from_db()
    assert signed_up.email_verified_at == first_verified_at

    response = client.post("/accounts/login/", {"username": "new.user@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302


def test_expired_link_is_refused_with_a_way_to_get_a_new_one(client, signed_up, settings):
    settings.EMAIL_VERIFICATION_MAX_AGE = timedelta(seconds=-1)
    response = client.get(verification_link(mail.outbox[0]))
    assert response.status_code == 400
    assert b"expired" in response.content
    assert b"/accounts/verify/resend/" in response.content
    signed_up.refresh_from_db()
    assert not signed_up.is_email_verified


def test_tampered_link_is_refused(client, signed_up):
    response = client.get(verification_link(mail.outbox[0]).replace(":", "x", 1))
    assert response.status_code == 400
    assert b"not valid" in response.content


def test_resend_sends_a_fresh_link_only_to_unverified_accounts(client, signed_up, django_capture_on_commit_callbacks):
    UserFactory(email="done@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/verify/resend/", {"email": "NEW.user@example.com"})
        client.post("/accounts/verify/resend/", {"email": "done@example.com"})
        client.post("/accounts/verify/resend/", {"email": "nobody@example.com"})
    assert [m.to for m in mail.outbox] == [["new.user@example.com"], ["new.user@example.com"]]


def test_signup_with_a_taken_email_creates_nothing_and_notifies_the_owner(client, django_capture_on_commit_callbacks):
    owner = UserFactory(email="taken@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/signup/", {**SIGNUP, "email": "Taken@example.com"})
    # Same answer as a real sign-up: the page does not reveal that the address has an account.
    assert response.status_code == 302
    assert response.url == "/accounts/signup/done/"
    assert User.objects.filter(email="taken@example.com").count() == 1
    owner.refresh_from_db()
    assert owner.check_password(DEFAULT_PASSWORD)
    assert len(mail.outbox) == 1
    assert "tried to sign up" in mail.outbox[0].subject


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password2": "something else entirely"}, b"do not match"),
        ({"password1": "short", "password2": "short"}, b"too short"),
        ({"password1": "1234567890123", "password2": "1234567890123"}, b"entirely numeric"),
        ({"email": "not-an-email"}, b"valid email"),
    ],
)
def test_bad_signup_input_gets_a_clear_message_and_creates_nothing(client, changes, message):
    response = client.post("/accounts/signup/", {**SIGNUP, **changes})
    assert response.status_code == 200
    assert message in response.content
    assert not User.objects.exists()
    assert mail.outbox == []


def test_stale_unverified_accounts_are_purged(settings):
    from django.utils import timezone

    from accounts.services import user_purge_unverified

    old = timezone.now() - settings.UNVERIFIED_ACCOUNT_RETENTION - timedelta(days=1)
    stale = UserFactory(unverified=True, date_joined=old)
    recent = UserFactory(unverified=True)
    verified_long_ago = UserFactory(date_joined=old)

    assert user_purge_unverified() == 1
    assert not User.objects.filter(id=stale.id).exists()
    assert User.objects.filter(id__in=[recent.id, verified_long_ago.id]).count() == 2
