"""The language of the website, the emails and the API's error messages: a saved choice, the
footer's switcher, the browser's language, English."""

from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core import mail

from accounts import services
from accounts.emails import email_language, send_templated_email
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

COOKIE = settings.LANGUAGE_COOKIE_NAME


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# The website
# ------------------------------------------------------------------------------


def test_a_visitor_whose_browser_asks_for_spanish_gets_spanish(client):
    html = page(client.get("/", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9,en;q=0.5"))
    assert '<html lang="es">' in html
    assert "Tu persona o tu producto, en cualquier imagen." in html
    assert "Crea tu cuenta" in html
    assert "Create your account" not in html


def test_a_language_we_do_not_ship_falls_back_to_english(client):
    html = page(client.get("/", HTTP_ACCEPT_LANGUAGE="ja,zh;q=0.8"))
    assert '<html lang="en">' in html
    assert "Your person or product, in any picture." in html


def test_the_saved_language_beats_the_browsers(client):
    client.force_login(UserFactory(language="de"))
    html = page(client.get("/accounts/settings/", HTTP_ACCEPT_LANGUAGE="es"))
    assert '<html lang="de">' in html
    assert "<h1>Einstellungen</h1>" in html
    assert "Abmelden" in html


def test_a_user_without_a_saved_language_follows_the_browser(client):
    client.force_login(UserFactory(language=""))
    html = page(client.get("/accounts/settings/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert "<h1>Paramètres</h1>" in html


def test_the_footer_switcher_is_on_every_page_signed_in_or_not(client):
    for path in ("/", "/accounts/login/", "/accounts/signup/"):
        html = page(client.get(path))
        assert 'action="/accounts/language/"' in html, path
        assert '<option value="de" lang="de">Deutsch</option>' in html
    client.force_login(UserFactory())
    assert 'action="/accounts/language/"' in page(client.get("/accounts/settings/"))


def test_the_switcher_sets_the_cookie_and_goes_back(client):
    response = client.post("/accounts/language/", {"language": "fr", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert response.cookies[COOKIE].value == "fr"
    assert response.cookies[COOKIE]["samesite"] == "Lax"
    html = page(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es"))
    assert '<html lang="fr">' in html
    assert "Mot de passe oublié" in html
    assert '<option value="fr" lang="fr" selected>Français</option>' in html


def test_the_switcher_saves_the_language_of_a_signed_in_user(client):
    user = UserFactory(language="")
    client.force_login(user)
    response = client.post("/accounts/language/", {"language": "es", "next": "/accounts/settings/"}, follow=True)
    user.refresh_from_db()
    assert user.language == "es"
    html = page(response)
    assert "Tus páginas y correos están ahora en Español." in html
    assert "<h1>Ajustes</h1>" in html


@pytest.mark.parametrize("outside", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_the_switcher_never_redirects_off_the_site(client, outside):
    response = client.post("/accounts/language/", {"language": "de", "next": outside}, HTTP_REFERER=outside)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_switcher_refuses_an_unknown_language_with_a_message(client):
    response = client.post("/accounts/language/", {"language": "xx", "next": "/accounts/login/"}, follow=True)
    html = page(response)
    assert "That language is not available: choose one from the list." in html
    assert COOKIE not in response.client.cookies or not response.client.cookies[COOKIE].value
    assert '<html lang="en">' in html


def test_the_switcher_takes_only_a_post(client):
    assert client.get("/accounts/language/").status_code == 405


def test_the_settings_page_saves_the_language_and_shows_in_it_at_once(client):
    user = UserFactory(language="")
    client.force_login(user)
    html = page(client.get("/accounts/settings/"))
    assert '<option value="" selected>Your browser&#x27;s language</option>' in html
    response = client.post("/accounts/language/", {"language": "de", "next": "/accounts/settings/"}, follow=True)
    html = page(response)
    assert "<h1>Einstellungen</h1>" in html
    assert '<option value="de" selected>Deutsch</option>' in html
    user.refresh_from_db()
    assert user.language == "de"


def test_choosing_the_browsers_language_clears_the_saved_one_and_the_cookie(client):
    user = UserFactory(language="de")
    client.force_login(user)
    client.cookies[COOKIE] = "de"
    response = client.post(
        "/accounts/language/", {"language": "", "next": "/accounts/settings/"}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert response.cookies[COOKIE].value == ""  # deleted
    user.refresh_from_db()
    assert user.language == ""
    html = page(client.get("/accounts/settings/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert "<h1>Paramètres</h1>" in html
    assert "Vos pages et vos e-mails suivent désormais la langue de votre navigateur." in html


def test_dates_and_money_on_a_page_follow_the_language(client, token_for):
    from django.template import Context, Template
    from django.utils import timezone, translation

    user = UserFactory(language="de")
    token_for(user)
    client.force_login(user)
    html = page(client.get("/accounts/settings/"))
    assert timezone.now().strftime("%d.%m.%Y") in html
    with translation.override("de"):
        assert (
            Template("{% load photoagent %}{{ amount|money }}").render(Context({"amount": 1250.5})) == "1.250,50\xa0$"
        )


# Emails
# ------------------------------------------------------------------------------


def test_an_email_to_a_german_user_is_german(django_capture_on_commit_callbacks):
    UserFactory(email="greta@example.com", language="de", display_name="Greta")
    with django_capture_on_commit_callbacks(execute=True):
        services.user_request_password_reset(email="greta@example.com")
    [message] = mail.outbox
    assert message.subject == "Setze dein PhotoAgent-Passwort zurück"
    assert message.body.startswith("Hallo Greta,")
    assert "Der Link funktioniert einmal und" in message.body
    html = message.alternatives[0][0]
    assert "Wähle ein neues Passwort" in html
    assert message.extra_headers["Content-Language"] == "de"


def test_the_saved_language_beats_the_language_of_the_request_that_asked(client, django_capture_on_commit_callbacks):
    UserFactory(email="greta@example.com", language="de")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "greta@example.com"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert mail.outbox[0].extra_headers["Content-Language"] == "de"


def test_a_user_without_a_saved_language_gets_the_language_of_the_request(client, django_capture_on_commit_callbacks):
    UserFactory(email="pierre@example.com", language="")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "pierre@example.com"}, HTTP_ACCEPT_LANGUAGE="fr")
    [message] = mail.outbox
    assert message.subject == "Réinitialisez votre mot de passe PhotoAgent"
    assert message.extra_headers["Content-Language"] == "fr"


SIGNUP = {
    "email": "nia@example.com",
    "display_name": "Nia",
    "password1": DEFAULT_PASSWORD,
    "password2": DEFAULT_PASSWORD,
}


def test_a_spanish_sign_up_gets_a_spanish_link_and_keeps_the_browsers_language(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/signup/", SIGNUP, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 302
    nia = User.objects.get(email="nia@example.com")
    assert (nia.language, nia.browser_language) == ("", "es")
    [message] = mail.outbox
    assert message.subject == "Confirma tu correo para PhotoAgent"
    assert "Hola, Nia:" in message.body
    assert "El enlace es válido durante 72 horas." in message.body


def test_a_sign_up_after_switching_the_language_saves_it(client, django_capture_on_commit_callbacks):
    client.post("/accounts/language/", {"language": "de", "next": "/accounts/signup/"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/signup/", SIGNUP, HTTP_ACCEPT_LANGUAGE="es")
    assert User.objects.get(email="nia@example.com").language == "de"
    assert mail.outbox[0].subject == "Bestätige deine E-Mail-Adresse für PhotoAgent"


def test_a_strangers_sign_up_does_not_change_the_owners_language(client, django_capture_on_commit_callbacks):
    owner = UserFactory(email="nia@example.com", language="fr")
    client.cookies[COOKIE] = "de"
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/signup/", SIGNUP)
    owner.refresh_from_db()
    assert owner.language == "fr"
    assert mail.outbox[0].subject == "Quelqu'un a essayé de créer un compte PhotoAgent avec votre adresse e-mail"


def test_training_emails_are_in_the_owners_language():
    owner = UserFactory(language="es", display_name="Lucía")
    send_templated_email(
        to=owner.email,
        template="training_succeeded",
        context={
            "user": owner,
            "run": SimpleNamespace(trigger_word="TOK", error=""),
            "project": SimpleNamespace(name="Zapatos"),
            "link": "http://testserver/training/runs/1/",
            "simulated": True,
        },
    )
    [message] = mail.outbox
    assert message.subject == "Tu modelo Zapatos está listo (demo)"
    assert "Tu modelo “Zapatos” ha terminado de entrenarse (en modo demo: este modelo es simulado)." in message.body
    assert "Usa la palabra clave TOK en tus prompts." in message.body
    assert message.extra_headers["Content-Language"] == "es"


def test_an_email_to_someone_of_unknown_language_is_english():
    send_templated_email(
        to="ann@example.com",
        template="verify_email",
        context={"user": {"get_short_name": "Ann"}, "link": "http://testserver/x/", "valid_hours": 1},
    )
    [message] = mail.outbox
    assert message.subject == "Confirm your email for PhotoAgent"
    assert "The link is valid for 1 hour." in message.body
    assert message.extra_headers["Content-Language"] == "en"


# Emails sent later by a worker: the language the user last used the website in
# ------------------------------------------------------------------------------


def browse(client, user, accept_language: str) -> None:
    client.force_login(user)
    page(client.get("/accounts/settings/", HTTP_ACCEPT_LANGUAGE=accept_language))


def test_a_user_who_browses_in_spanish_gets_the_training_result_in_spanish(client, run_on_commit, instant_demo):
    from training import services as training_services
    from training.tests.factories import poll_now, ready_project

    project = ready_project(owner=UserFactory(language=""), name="Zapatos")
    browse(client, project.owner, "es-ES,es;q=0.9")
    project.owner.refresh_from_db()
    assert (project.owner.language, project.owner.browser_language) == ("", "es")
    # The worker: no request, so no Accept-Language to ask.
    with run_on_commit():
        run = training_services.training_start(project=project)
    with run_on_commit():
        poll_now(run.id)
    [message] = mail.outbox
    assert message.subject == "Tu modelo Zapatos está listo (demo)"
    assert "Tu modelo “Zapatos” ha terminado de entrenarse (en modo demo: este modelo es simulado)." in message.body
    assert message.extra_headers["Content-Language"] == "es"


def test_an_account_email_a_worker_queues_is_in_the_language_last_browsed_in(client, run_on_commit):
    user = UserFactory(language="", unverified=True, display_name="Nia")
    browse(client, user, "fr")
    with run_on_commit():
        services.account_email_queue_legacy(user_id=user.id, kind="verification")
    [message] = mail.outbox
    assert message.extra_headers["Content-Language"] == "fr"
    assert "Nia" in message.body


def test_the_last_language_browsed_in_is_the_one_noted(client):
    user = UserFactory(language="")
    browse(client, user, "es")
    page(client.get("/accounts/settings/", HTTP_ACCEPT_LANGUAGE="de"))
    user.refresh_from_db()
    assert user.browser_language == "de"
    page(client.get("/accounts/settings/", HTTP_ACCEPT_LANGUAGE="en"))
    user.refresh_from_db()
    assert user.browser_language == "en"


def test_an_english_visit_writes_nothing_and_a_new_language_is_written_once(client, django_assert_num_queries):
    user = UserFactory(language="")
    client.force_login(user)
    with django_assert_num_queries(3):  # session, user, tokens: as pinned in test_views
        page(client.get("/accounts/settings/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9"))
    with django_assert_num_queries(3):
        page(client.get("/accounts/settings/"))
    with django_assert_num_queries(4):  # + the one update
        page(client.get("/accounts/settings/", HTTP_ACCEPT_LANGUAGE="es"))
    with django_assert_num_queries(3):  # already noted
        page(client.get("/accounts/settings/", HTTP_ACCEPT_LANGUAGE="es"))


def test_the_api_notes_no_language(client):
    user = UserFactory(language="")
    client.force_login(user)
    client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="es")
    user.refresh_from_db()
    assert user.browser_language == ""


def test_the_saved_language_still_wins_over_the_language_browsed_in(client, run_on_commit, instant_demo):
    from training import services as training_services
    from training.tests.factories import poll_now, ready_project

    project = ready_project(owner=UserFactory(language="de"), name="Schuhe")
    browse(client, project.owner, "es")
    project.owner.refresh_from_db()
    assert project.owner.browser_language == ""  # nothing to note: the saved language wins anyway
    with run_on_commit():
        run = training_services.training_start(project=project)
    with run_on_commit():
        poll_now(run.id)
    assert mail.outbox[0].extra_headers["Content-Language"] == "de"


def test_the_asking_requests_language_beats_the_one_last_browsed_in(client, django_capture_on_commit_callbacks):
    UserFactory(email="pierre@example.com", language="", browser_language="es")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "pierre@example.com"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert mail.outbox[0].extra_headers["Content-Language"] == "fr"


def test_email_language_order():
    assert email_language(SimpleNamespace(language="de", browser_language="es"), "fr") == "de"
    assert email_language(SimpleNamespace(language="", browser_language="es"), "fr") == "fr"
    assert email_language(SimpleNamespace(language="", browser_language="es")) == "es"
    assert email_language(SimpleNamespace(language="", browser_language="")) == "en"
    assert email_language(None) == "en"


# The API: English codes and field names, messages in the language of Accept-Language
# ------------------------------------------------------------------------------


def test_a_400_is_explained_in_german_with_english_codes_and_fields(api_client, user):
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/tokens/", {}, format="json", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"] == "Die Anfrage ist ungültig; siehe Details."
    assert error["details"] == {"name": ["Dieses Feld ist zwingend erforderlich."]}
    assert response["Content-Language"] == "de"


def test_a_404_is_explained_in_german(api_client, user):
    api_client.force_authenticate(user)
    for path in ("/api/v1/tokens/999999/", "/api/v1/no-such-thing/"):
        response = api_client.get(path, HTTP_ACCEPT_LANGUAGE="de-AT,de;q=0.9")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
        assert response.json()["error"]["message"] == "Nicht gefunden.", path


def test_a_refusal_is_explained_in_german(api_client, user, token_for, settings):
    settings.API_TOKEN_MAX_PER_USER = 1
    token_for(user)
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/tokens/", {"name": "zwei"}, format="json", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    message = "Du hast bereits 1 Token; widerrufe einen, den du nicht mehr nutzt, um einen neuen zu erstellen."
    assert error["message"] == message
    assert error["details"] == {"non_field_errors": [message]}


def test_a_rejected_token_is_explained_in_german(api_client):
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer pat_nope_nope", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 401
    assert response.json()["error"] == {"code": "authentication_failed", "message": "Ungültiger Token.", "details": {}}


def test_the_api_follows_accept_language_not_the_saved_language_nor_the_cookie(api_client, user, token_for):
    user.language = "de"
    user.save()
    _token, secret = token_for(user)
    api_client.cookies[COOKIE] = "es"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    french = api_client.get("/api/v1/tokens/999999/", HTTP_ACCEPT_LANGUAGE="fr", **headers)
    assert french.json()["error"]["message"] == "Introuvable."
    english = api_client.get("/api/v1/tokens/999999/", **headers)
    assert english.json()["error"]["message"] == "Not found."
