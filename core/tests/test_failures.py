"""Failure texts are stored once, in English, by whichever worker or request ends the work, and
read later by people in other languages: pages and emails show them in the reader's language."""

from django.utils import translation

from core import failures


def in_language(language: str, text: str) -> str:
    with translation.override(language):
        return failures.shown(text)


def test_a_failure_is_stored_in_english_whatever_the_language_of_the_request_that_ends_it():
    with translation.override("es"):
        stored = failures.explain(failures.Kind.USER_CANCELED, subject="generation")
        deadline = failures.TRAINING_DEADLINES["queued"].format(minutes=15)
    assert stored == "You canceled this job."
    assert deadline.startswith("Our workers did not pick this training up within 15 minutes.")


def test_a_deadline_with_the_last_error_reads_in_spanish_and_german_with_its_numbers_and_the_error_kept():
    stored = failures.with_last_error(
        failures.TRAINING_DEADLINES["queued"].format(minutes=15), "ConnectionError: refused"
    )
    spanish = in_language("es", stored)
    assert "15 minutos" in spanish
    assert "No se ha cobrado nada" in spanish
    assert "ConnectionError: refused" in spanish
    assert "Nothing was charged" not in spanish
    german = in_language("de", stored)
    assert "15 Minuten" in german
    assert "ConnectionError: refused" in german


def test_the_providers_own_words_stay_as_they_are_inside_a_translated_explanation():
    stored = failures.explain(failures.Kind.NSFW, subject="generation", detail="NSFW content detected")
    french = in_language("fr", stored)
    assert "NSFW content detected" in french
    assert "safety checker" not in french
    assert french != stored


def test_steps_that_ran_out_of_attempts_and_images_not_stored_are_translated():
    exhausted = failures.GENERATION_EXHAUSTED["submitting"].format(attempts=10) + " Try again later."
    assert "10 intentos" in in_language("es", exhausted)
    assert "Try again" not in in_language("es", exhausted)
    partial = failures.IMAGES_NOT_STORED["some"].format(stored=1, total=2, problems="image 2: not an image")
    german = in_language("de", partial)
    assert german != partial
    assert "image 2: not an image" in german


def test_english_readers_and_unknown_text_get_the_stored_text_unchanged():
    stored = failures.explain(failures.Kind.DEADLINE, subject="training")
    assert in_language("en", stored) == stored
    assert in_language("es", "The provider said something new.") == "The provider said something new."
    assert in_language("es", "") == ""
