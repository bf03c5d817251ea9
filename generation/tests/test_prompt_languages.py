"""Prompts in any language, as a user meets them: a Spanish prompt is sent in English and both are
shown; translation can be turned off; demo mode says it does not translate; "use these settings
again" starts from the typed prompt; templates are offered in the user's language and sent in
English; the submit step translates once; the API round trip."""

import re

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from core.exceptions import PermanentProviderError
from generation import selectors, services
from generation.models import Generation
from generation.tests.factories import trained_model
from projects.models import Project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]

Translation = Generation.PromptTranslation
SPANISH = "un retrato de {trigger} en la playa al atardecer"
ENGLISH = "a portrait of {trigger} on the beach at sunset"


def form_data(run, prompt: str, *, translate: bool = True, **fields) -> dict:
    data = {
        "model": run.id,
        "prompt": prompt,
        "num_outputs": 1,
        "aspect_ratio": "1:1",
        "seed": 7,
        "guidance": 3,
        "steps": 28,
        "lora_scale": 1,
        "output_format": "webp",
        **fields,
    }
    if translate:
        data["translate_prompt"] = "on"
    return data


def spanish_user_with_model(client, category=Project.Category.PERSON):
    run = trained_model(category=category)
    owner = run.project.owner
    owner.language = "es"
    owner.save(update_fields=["language"])
    client.force_login(owner)
    return run


def generate(client, run_on_commit, run, prompt: str, **options) -> Generation:
    with run_on_commit():
        response = client.post("/generation/new/", form_data(run, prompt, **options))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Generation.objects.latest("id")


def text_of(page: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</p>', page, re.DOTALL)
    assert match, f"no {testid} on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_a_spanish_prompt_is_sent_in_english_and_the_job_page_shows_both(client, run_on_commit, translator):
    run = spanish_user_with_model(client)
    trigger = run.trigger_word
    generation = generate(client, run_on_commit, run, SPANISH.format(trigger=trigger))

    assert generation.status == Generation.Status.SUCCEEDED, generation.error
    assert generation.prompt_typed == SPANISH.format(trigger=trigger)
    assert generation.prompt == ENGLISH.format(trigger=trigger)
    assert (generation.prompt_language, generation.prompt_translation) == ("es", Translation.TRANSLATED)
    [call] = translator.translation_requests()
    assert call.json["messages"][1]["content"] == "<text>un retrato de ⟦0⟧ en la playa al atardecer</text>"

    page = client.get(f"/generation/jobs/{generation.id}/").content.decode()
    assert text_of(page, "prompt-typed") == SPANISH.format(trigger=trigger)
    assert text_of(page, "prompt-sent") == f"Enviado en inglés: {ENGLISH.format(trigger=trigger)}"
    assert "Completada" in page
    # The gallery's lightbox carries both.
    gallery = client.get("/generation/").content.decode()
    assert f'data-prompt="{SPANISH.format(trigger=trigger)}"' in gallery
    assert f'data-sent="Enviado en inglés: {ENGLISH.format(trigger=trigger)}"' in gallery


def test_the_provider_receives_the_english_prompt(client, run_on_commit, replicate, translator):
    run = trained_model(backend="replicate")
    client.force_login(run.project.owner)
    generation = generate(client, run_on_commit, run, "una taza de café sobre una mesa de madera")

    # The trigger word is added to the English, not to the Spanish.
    expected = f"a photo of {run.trigger_word}, a cup of coffee on a wooden table"
    [create] = replicate.prediction_creates()
    assert create.body["input"]["prompt"] == expected
    generation.refresh_from_db()
    assert generation.prompt == expected
    assert generation.prompt_typed == "una taza de café sobre una mesa de madera"


def test_an_english_prompt_is_not_translated(client, run_on_commit, translator):
    run = spanish_user_with_model(client)
    generation = generate(client, run_on_commit, run, f"portrait of {run.trigger_word}")
    assert (generation.prompt_language, generation.prompt_translation) == ("en", Translation.NOT_NEEDED)
    assert generation.prompt == f"portrait of {run.trigger_word}"
    assert translator.translation_requests() == []
    page = client.get(f"/generation/jobs/{generation.id}/").content.decode()
    assert 'data-testid="prompt-sent"' not in page


def test_translation_turned_off_sends_the_prompt_as_typed(client, run_on_commit, translator):
    run = spanish_user_with_model(client)
    typed = SPANISH.format(trigger=run.trigger_word)
    generation = generate(client, run_on_commit, run, typed, translate=False)

    assert generation.status == Generation.Status.SUCCEEDED
    assert (generation.prompt, generation.translate_prompt) == (typed, False)
    assert (generation.prompt_language, generation.prompt_translation) == ("es", Translation.OFF)
    assert translator.translation_requests() == []
    page = client.get(f"/generation/jobs/{generation.id}/").content.decode()
    assert text_of(page, "prompt-note") == "Traducción desactivada: enviado tal como lo escribiste."


def test_demo_mode_sends_prompts_as_typed_and_says_so(client, run_on_commit):
    run = spanish_user_with_model(client)
    form = client.get("/generation/new/").content.decode()
    assert "En modo demo los prompts no se traducen: se envían tal como los escribes." in form

    typed = SPANISH.format(trigger=run.trigger_word)
    generation = generate(client, run_on_commit, run, typed)
    assert generation.prompt == typed
    assert generation.prompt_translation == Translation.NOT_TRANSLATED_DEMO
    page = client.get(f"/generation/jobs/{generation.id}/").content.decode()
    assert text_of(page, "prompt-note") == "Sin traducir: en modo demo los prompts se envían tal como los escribes."


def test_use_these_settings_again_starts_from_the_typed_prompt_and_its_choice(client, run_on_commit, translator):
    run = spanish_user_with_model(client)
    typed = SPANISH.format(trigger=run.trigger_word)
    translated = generate(client, run_on_commit, run, typed)
    as_typed = generate(client, run_on_commit, run, typed, translate=False)

    again = client.get(f"/generation/new/?from={translated.id}").content.decode()
    assert f">\n{typed}</textarea>" in again
    assert ENGLISH.format(trigger=run.trigger_word) not in again
    assert re.search(r'<input type="checkbox" name="translate_prompt"[^>]* checked', again)
    again = client.get(f"/generation/new/?from={as_typed.id}").content.decode()
    assert not re.search(r'<input type="checkbox" name="translate_prompt"[^>]* checked', again)


def test_the_submit_step_translates_once_whatever_the_retries(
    client, run_on_commit, replicate, translator, worker_retries
):
    # The translation goes through; the provider then fails once: the retry sends the stored English.
    replicate.fail_next(r"POST /v1/models/.*/predictions", 503, {"detail": "Service Unavailable", "status": 503})
    run = trained_model(backend="replicate")
    client.force_login(run.project.owner)
    generation = generate(client, run_on_commit, run, "una taza de café sobre una mesa de madera")

    assert len(translator.translation_requests()) == 1
    creates = replicate.prediction_creates()
    assert len(creates) == 2
    assert {create.body["input"]["prompt"] for create in creates} == {
        f"a photo of {run.trigger_word}, a cup of coffee on a wooden table"
    }
    generation.refresh_from_db()
    assert generation.provider_id


def test_a_translator_that_is_down_is_retried_within_the_step(client, run_on_commit, translator, worker_retries):
    translator.fail_next(503)
    run = spanish_user_with_model(client)
    generation = generate(client, run_on_commit, run, SPANISH.format(trigger=run.trigger_word))
    assert generation.status == Generation.Status.SUCCEEDED, generation.error
    assert generation.prompt == ENGLISH.format(trigger=run.trigger_word)
    assert len(translator.translation_requests()) == 2


@pytest.mark.parametrize("fault", ["dropped marker", "401"])
def test_a_refused_translation_fails_the_job_and_offers_to_send_it_as_typed(client, run_on_commit, translator, fault):
    if fault == "401":
        translator.fail_next(401)
    else:
        translator.drop_marker_next()
    run = spanish_user_with_model(client)
    typed = SPANISH.format(trigger=run.trigger_word)
    generation = generate(client, run_on_commit, run, typed)

    assert generation.status == Generation.Status.FAILED
    assert generation.prompt_translation == Translation.FAILED
    assert generation.provider_id is None
    assert not generation.images.exists()
    assert generation.cost is None
    assert generation.error.startswith("We could not translate the prompt to English, so nothing was sent")
    page = client.get(f"/generation/jobs/{generation.id}/").content.decode()
    assert (
        "No hemos podido traducir tu prompt al inglés, así que no se ha enviado nada ni se te ha cobrado nada." in page
    )
    link = f"/generation/new/?from={generation.id}&amp;translate=0"
    assert link in page

    form = client.get(link.replace("&amp;", "&")).content.decode()
    assert f">\n{typed}</textarea>" in form
    assert not re.search(r'<input type="checkbox" name="translate_prompt"[^>]* checked', form)
    resent = generate(client, run_on_commit, run, typed, translate=False)
    assert (resent.status, resent.prompt, resent.prompt_translation) == (Generation.Status.SUCCEEDED, typed, "off")


def test_templates_are_offered_in_the_users_language_and_sent_in_english(client, run_on_commit, translator):
    run = spanish_user_with_model(client, category=Project.Category.PRODUCT)
    trigger = run.trigger_word
    page = client.get("/generation/new/").content.decode()
    assert "Estudio sobre blanco" in page
    shown = f"una foto de producto de {trigger} sobre un fondo blanco infinito, con sombra suave"
    assert f'data-template="{shown}"' in page

    generation = generate(client, run_on_commit, run, shown)
    assert generation.prompt == f"a product photo of {trigger} on a seamless white background, soft shadow"
    assert (generation.prompt_language, generation.prompt_translation) == ("es", Translation.ORIGINAL)
    assert translator.translation_requests() == []
    job = client.get(f"/generation/jobs/{generation.id}/").content.decode()
    assert text_of(job, "prompt-typed") == shown
    assert text_of(job, "prompt-sent").startswith("Enviado en inglés: a product photo of")

    # Edited, it is the user's own prompt: translated as usual.
    generate(client, run_on_commit, run, shown + ", con flores")
    assert len(translator.translation_requests()) == 1


def test_templates_go_in_english_in_demo_mode_too(client, run_on_commit):
    run = spanish_user_with_model(client)
    shown = f"un retrato profesional de {run.trigger_word}, iluminación de estudio, fondo gris neutro, 85 mm"
    generation = generate(client, run_on_commit, run, shown)
    assert generation.prompt_translation == Translation.ORIGINAL
    assert generation.prompt.startswith(f"a professional headshot of {run.trigger_word}, studio lighting")


def test_a_suggestion_offered_translated_is_sent_in_its_english_original(client, run_on_commit, translator):
    run = spanish_user_with_model(client)
    shown = "una taza de café con arte latte sobre un platillo blanco"
    english = "a cup of espresso with latte art on a white saucer"
    token = selectors.prompt_suggestion_token(shown=shown, english=english)
    form = client.get("/generation/new/", {"prompt": shown, "suggestion": token}).content.decode()
    assert f'name="suggestion" value="{token}"' in form

    with run_on_commit():
        client.post("/generation/new/", form_data(run, shown, suggestion=token))
    generation = Generation.objects.latest("id")
    assert generation.prompt_translation == Translation.ORIGINAL
    assert generation.prompt == f"a photo of {run.trigger_word}, {english}"
    assert translator.translation_requests() == []

    with run_on_commit():
        client.post("/generation/new/", form_data(run, shown + " y galletas", suggestion=token))
    assert Generation.objects.latest("id").prompt_translation == Translation.TRANSLATED
    with run_on_commit():
        client.post("/generation/new/", form_data(run, shown, suggestion=token + "x"))
    assert Generation.objects.latest("id").prompt_translation == Translation.TRANSLATED


def test_the_form_speaks_spanish(client):
    spanish_user_with_model(client)
    page = client.get("/generation/new/").content.decode()
    assert "<title>Generar imágenes · PhotoAgent</title>" in page
    for text in (
        "Empieza con una plantilla",
        "Retrato de estudio",
        "Traducir mi prompt al inglés",
        "FLUX.1-dev entiende mejor el inglés.",
        "Relación de aspecto",
        "Cuadrado 1:1",
        "Ajustes avanzados: guía, pasos, intensidad del LoRA",
        "Hasta 1000 caracteres, palabra clave incluida.",
    ):
        assert text in page, text


def test_the_api_round_trip(run_on_commit, translator):
    run = trained_model()
    api = APIClient()
    api.force_authenticate(run.project.owner)
    typed = SPANISH.format(trigger=run.trigger_word)
    with run_on_commit():
        response = api.post("/api/v1/generations/", {"model": run.id, "prompt": typed}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["prompt_typed"], body["prompt_language"], body["translate_prompt"]) == (typed, "es", True)
    assert body["prompt_translation"] == "pending"
    job = api.get(f"/api/v1/generations/{body['id']}/").json()
    assert (job["prompt_translation"], job["prompt"]) == ("translated", ENGLISH.format(trigger=run.trigger_word))
    assert job["prompt_typed"] == typed

    with run_on_commit():
        off = api.post(
            "/api/v1/generations/", {"model": run.id, "prompt": typed, "translate_prompt": False}, format="json"
        ).json()
    assert (off["prompt"], off["prompt_translation"], off["translate_prompt"]) == (typed, "off", False)


def test_api_errors_keep_their_codes_and_speak_the_accept_language(settings):
    settings.GENERATION_CONCURRENT_JOBS = 0
    api = APIClient()
    api.force_authenticate(UserFactory())
    response = api.post(
        "/api/v1/generations/", {"prompt": "un faro al anochecer"}, format="json", HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"].startswith("Ya tienes 0 generaciones en curso y tu límite es 0.")
    response = api.post(
        "/api/v1/generations/", {"model": 999999, "prompt": "x"}, format="json", HTTP_ACCEPT_LANGUAGE="de"
    )
    assert response.json()["error"]["details"]["model"] == ["Keines deiner trainierten Modelle hat diese ID."]


def test_jobs_from_before_translation_show_their_prompt_as_typed(client, run_on_commit):
    run = trained_model()
    client.force_login(run.project.owner)
    with run_on_commit():
        generation = services.generation_create(user=run.project.owner, training_run=run, prompt="on a beach")
    Generation.objects.filter(id=generation.id).update(prompt_typed="", prompt_language="")
    generation.refresh_from_db()
    assert generation.prompt_as_typed == f"a photo of {run.trigger_word}, on a beach"
    page = client.get(f"/generation/new/?from={generation.id}").content.decode()
    assert f">\na photo of {run.trigger_word}, on a beach</textarea>" in page


def test_an_english_translation_too_long_to_send_fails_the_job_and_offers_to_send_it_as_typed(
    client, run_on_commit, translator, settings
):
    run = spanish_user_with_model(client)
    typed = SPANISH.format(trigger=run.trigger_word)
    settings.GENERATION_PROMPT_MAX_CHARS = len(typed) + 10  # the typed prompt fits, its English does not
    translator.long_next()
    generation = generate(client, run_on_commit, run, typed)

    assert generation.status == Generation.Status.FAILED
    assert generation.prompt_translation == Translation.FAILED
    assert generation.prompt == typed  # the over-long English is never recorded as the prompt to send
    assert generation.provider_id is None
    assert generation.cost is None
    assert generation.error.startswith("The English translation of the prompt has ")
    page = client.get(f"/generation/jobs/{generation.id}/").content.decode()
    assert f"Traducido al inglés, tu prompt supera los {len(typed) + 10} caracteres" in page
    assert "o acórtalo y vuelve a intentarlo." in page
    assert generation.prompt_note == "No se ha enviado: su traducción al inglés es demasiado larga."
    assert f"/generation/new/?from={generation.id}&amp;translate=0" in page


def test_a_chatty_answer_fails_the_job_as_a_refused_translation(client, run_on_commit, translator):
    translator.chatty_next()
    run = spanish_user_with_model(client)
    generation = generate(client, run_on_commit, run, SPANISH.format(trigger=run.trigger_word))

    assert (generation.status, generation.prompt_translation) == (Generation.Status.FAILED, Translation.FAILED)
    assert generation.provider_id is None
    assert "answered like a chat" in generation.last_error
    page = client.get(f"/generation/jobs/{generation.id}/").content.decode()
    assert "No hemos podido traducir tu prompt al inglés" in page


def test_a_job_canceled_while_its_prompt_is_translated_is_canceled_not_untranslatable(
    client, run_on_commit, translator, monkeypatch
):
    from generation.backends.translation import HuggingFaceTranslationBackend
    from generation.services.jobs import generation_cancel

    def canceled_then_refused(self, text, *, source_language):
        generation_cancel(generation=Generation.objects.latest("id"))
        raise PermanentProviderError("refused after the user's cancel")

    monkeypatch.setattr(HuggingFaceTranslationBackend, "translate", canceled_then_refused)
    run = spanish_user_with_model(client)
    generation = generate(client, run_on_commit, run, SPANISH.format(trigger=run.trigger_word))

    assert generation.status == Generation.Status.CANCELED
    assert generation.prompt_translation == Translation.PENDING
    assert not generation.translation_failed
    page = client.get(f"/generation/jobs/{generation.id}/").content.decode()
    assert 'data-testid="translation-failed"' not in page


def test_a_terse_prompt_is_read_in_the_users_language(client, run_on_commit, translator):
    run = spanish_user_with_model(client)
    generation = generate(client, run_on_commit, run, f"{run.trigger_word} perro corriendo playa atardecer")

    assert (generation.prompt_language, generation.prompt_translation) == ("es", Translation.TRANSLATED)
    # The stand-in does not know this prompt: its answer is recognisable, never the typed prompt.
    assert generation.prompt == f"[translated] {run.trigger_word} perro corriendo playa atardecer"


def test_paid_images_without_a_translator_warn_at_start_up_and_say_so_on_the_form(client, settings):
    from django.core import checks

    settings.DEMO_MODE = False
    settings.PROMPT_TRANSLATION_BACKEND = "generation.backends.translation.NoTranslationBackend"
    assert [message.id for message in checks.run_checks() if message.id == "generation.W001"] == ["generation.W001"]
    settings.PROMPT_TRANSLATION_BACKEND = "generation.backends.translation.HuggingFaceTranslationBackend"
    assert not [message for message in checks.run_checks() if message.id == "generation.W001"]
