"""Session fixation: a session key known before logging in is worthless after it, and a key is
worthless once its owner logs out or changes the password elsewhere."""

import re
from importlib import import_module

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

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
