import pytest
from django.conf import settings as django_settings
from django.core import mail

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

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
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
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
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
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
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
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
