"""The website's account pages: sign-up and verification, log-in and lockout, password reset, sessions, tokens."""

import re
from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


# Sign-up and verification
# ------------------------------------------------------------------------------


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


# Log-in, lockout and passwords
# ------------------------------------------------------------------------------


BASE_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def login(client, email, password):
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_login_and_logout(client, user):
    assert login(client, user.email, DEFAULT_PASSWORD).status_code == 302
    assert client.get("/projects/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/projects/").status_code == 302


def test_wrong_password_gets_a_clear_message(client, user):
    response = login(client, user.email, "wrong password")
    assert response.status_code == 200
    assert b"do not match an account" in response.content


def test_repeated_failures_lock_the_account_with_a_clear_message(client, user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, user.email, "wrong password")
    response = login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed log-ins" in response.content
    assert b"try again in 15\xc2\xa0minutes" in response.content
    assert "_auth_user_id" not in client.session


def test_each_failure_says_how_many_tries_are_left_before_the_lockout(client, user):
    messages = [login(client, user.email, "wrong password").content.decode() for _ in range(4)]
    assert "4 tries left before a 15-minute lockout." in messages[0]
    assert "3 tries left before a 15-minute lockout." in messages[1]
    assert "1 try left before a 15-minute lockout." in messages[3]


def test_a_lockout_locks_the_account_from_that_address_only(client, user):
    """A stranger's failures neither lock the owner out (another address) nor lock other accounts
    out of the stranger's address (behind a proxy, that is everyone)."""
    neighbour = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, user.email, "wrong password")
    assert login(client, user.email, DEFAULT_PASSWORD).status_code == 429
    assert login(client, neighbour.email, DEFAULT_PASSWORD).status_code == 302, "another account, same address"
    client.post("/accounts/logout/")
    response = client.post(
        "/accounts/login/", {"username": user.email, "password": DEFAULT_PASSWORD}, REMOTE_ADDR="10.9.8.7"
    )
    assert response.status_code == 302, "the owner, from another address"


def test_attempts_on_one_account_from_many_addresses_are_slowed(client, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_account": "6/minute"}
    for n in range(6):  # a distributed guesser: one try from each address, under every pair's lockout
        response = client.post(
            "/accounts/login/", {"username": user.email, "password": "wrong"}, REMOTE_ADDR=f"10.0.0.{n}"
        )
        assert response.status_code == 200
    response = client.post(
        "/accounts/login/", {"username": user.email, "password": DEFAULT_PASSWORD}, REMOTE_ADDR="10.0.1.1"
    )
    assert response.status_code == 429
    assert b"Too many attempts. Please wait 1 minute" in response.content
    assert "_auth_user_id" not in client.session
    assert login(client, UserFactory().email, DEFAULT_PASSWORD).status_code == 302, "other accounts are not slowed"


def test_a_success_before_the_limit_resets_the_count(client, user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, user.email, "wrong password")
    assert login(client, user.email, DEFAULT_PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    login(client, user.email, "wrong password")
    assert login(client, user.email, DEFAULT_PASSWORD).status_code == 302


def test_passwords_are_hashed_with_bcrypt(settings):
    settings.PASSWORD_HASHERS = BASE_HASHERS
    user = User.objects.create_user(email="b@example.com", password=DEFAULT_PASSWORD)
    assert user.password.startswith("bcrypt_sha256$$2b$")
    assert user.check_password(DEFAULT_PASSWORD)


def test_an_older_hash_is_upgraded_to_bcrypt_on_login(client, settings):
    settings.PASSWORD_HASHERS = list(reversed(BASE_HASHERS))
    user = UserFactory(email="old@example.com")
    assert user.password.startswith("pbkdf2_sha256$")

    settings.PASSWORD_HASHERS = BASE_HASHERS
    assert login(client, "old@example.com", DEFAULT_PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("bcrypt_sha256$")


def test_password_reset_by_email(client, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": user.email.upper()})
    assert response.url == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1
    link = mail.outbox[0].body.split("http://testserver", 1)[1].split()[0]

    form_page = client.get(link, follow=True)
    assert b"Choose a new password" in form_page.content
    new_password = "a brand new passphrase"
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert response.url == "/accounts/password/reset/complete/"
    assert login(client, user.email, new_password).status_code == 302

    # The link works once.
    client.post("/accounts/logout/")
    assert b"no longer valid" in client.get(link, follow=True).content


def test_password_reset_for_an_unknown_email_looks_the_same_and_sends_nothing(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.url == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_password_change(client, user):
    client.force_login(user)
    new_password = "another good passphrase"
    response = client.post(
        "/accounts/password/change/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)
    # Still logged in: the session hash was updated.
    assert client.get("/projects/").status_code == 200


def test_settings_page_updates_the_display_name(client, user):
    client.force_login(user)
    response = client.post("/accounts/settings/", {"display_name": "  Ada  "}, follow=True)
    assert b"Profile saved." in response.content
    user.refresh_from_db()
    assert user.display_name == "Ada"


def test_login_rejects_an_offsite_next(client, user):
    response = client.post(
        "/accounts/login/", {"username": user.email, "password": DEFAULT_PASSWORD, "next": "https://evil.example/"}
    )
    assert response.url == "/app/"


def test_resetting_the_password_also_verifies_the_address(client, django_capture_on_commit_callbacks):
    user = UserFactory(unverified=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": user.email})
    link = mail.outbox[0].body.split("http://testserver", 1)[1].split()[0]
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"})
    assert login(client, user.email, "a brand new passphrase").status_code == 302


# Sessions: a session key known before logging in is worthless after it, and a key is
# worthless once its owner logs out or changes the password elsewhere.
# ------------------------------------------------------------------------------


SessionStore = import_module(settings.SESSION_ENGINE).SessionStore


def session_key(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def planted_session(client) -> str:
    """A session an attacker started and got the victim's browser to use."""
    session = client.session
    session["planted"] = True
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return session.session_key


def logged_in_with(client, key: str) -> bool:
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client.get("/projects/").status_code == 200


def test_logging_in_gives_a_new_session_key_and_drops_the_old_one(client, user):
    planted = planted_session(client)
    response = client.post("/accounts/login/", {"username": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert session_key(client) != planted
    assert not SessionStore().exists(planted)
    assert logged_in_with(client, session_key(client))
    assert not logged_in_with(client, planted)


def test_signing_up_logs_no_one_in_and_the_first_log_in_rotates_the_session(client, django_capture_on_commit_callbacks):
    planted = planted_session(client)
    password = "a long sign-up passphrase"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/signup/",
            {"email": "new@example.com", "display_name": "", "password1": password, "password2": password},
        )
    assert "_auth_user_id" not in client.session
    link = re.search(r"http://testserver(/accounts/verify/\S+/)", mail.outbox[0].body).group(1)
    client.get(link)
    assert "_auth_user_id" not in client.session, "following the emailed link must not log anyone in"
    client.post("/accounts/login/", {"username": "new@example.com", "password": password})
    assert "_auth_user_id" in client.session
    assert session_key(client) != planted
    assert not SessionStore().exists(planted)


def test_logging_out_ends_the_session_for_good(client, user):
    client.post("/accounts/login/", {"username": user.email, "password": DEFAULT_PASSWORD})
    key = session_key(client)
    client.post("/accounts/logout/")
    assert not SessionStore().exists(key)
    assert not logged_in_with(client, key)


def test_changing_the_password_logs_out_every_other_session(client, user):
    other_device = Client()
    other_device.post("/accounts/login/", {"username": user.email, "password": DEFAULT_PASSWORD})
    client.post("/accounts/login/", {"username": user.email, "password": DEFAULT_PASSWORD})
    new_password = "another good passphrase"
    client.post(
        "/accounts/password/change/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert client.get("/projects/").status_code == 200
    assert other_device.get("/projects/").status_code == 302


# API tokens on the settings page
# ------------------------------------------------------------------------------


def test_website_creates_a_token_and_shows_the_secret_only_once(client, user):
    client.force_login(user)
    response = client.post("/accounts/settings/tokens/", {"name": "laptop", "expires_in": "30"}, follow=True)
    token = ApiToken.objects.get(user=user)
    page = response.content.decode()
    assert "Copy it now" in page
    secret = page.split('id="new-token-value"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert secret.startswith(f"pat_{token.prefix}_")
    assert token.expires_at.date() == (timezone.now() + timedelta(days=30)).date()
    assert secret not in client.get("/accounts/settings/").content.decode()


def test_website_revokes_a_token(client, user, token_for):
    token, _ = token_for(user, name="old script")
    client.force_login(user)
    response = client.post(f"/accounts/settings/tokens/{token.id}/revoke/", follow=True)
    assert "Token “old script” revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_website_cannot_revoke_another_users_token(client, user, token_for):
    theirs, _ = token_for(UserFactory())
    client.force_login(user)
    assert client.post(f"/accounts/settings/tokens/{theirs.id}/revoke/").status_code == 404


def test_website_token_form_errors_are_shown(client, user):
    client.force_login(user)
    response = client.post("/accounts/settings/tokens/", {"name": "", "expires_in": "30"})
    assert response.status_code == 400
    assert b"This field is required." in response.content
    assert not ApiToken.objects.exists()


def test_settings_page_queries_do_not_grow_with_tokens(client, user, token_for, django_assert_num_queries):
    client.force_login(user)
    token_for(user)
    with django_assert_num_queries(3):  # session, user, tokens
        client.get("/accounts/settings/")
    for n in range(10):
        token_for(user, name=f"t{n}")
    with django_assert_num_queries(3):
        client.get("/accounts/settings/")
