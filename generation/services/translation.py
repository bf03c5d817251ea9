"""Prompts in any language: the typed prompt translated to English once, in the submit step,
before the provider sees it (whether it needs one was decided when the job was recorded:
generation.services.prompts.prompt_plan).

A refused translation (a permanent error, a chat answer, an answer that lost the trigger word or a
quotation, or an English prompt longer than settings.GENERATION_PROMPT_MAX_CHARS) fails the job
with nothing sent and nothing charged; the job page then offers to send the prompt as typed. A
broken or over-long prompt is never sent silently.
"""

import logging

from django.conf import settings
from django.db import transaction

from core.exceptions import PermanentProviderError
from core.failures import Kind
from generation.backends.translation import get_translation_backend
from generation.models import Generation
from generation.services.jobs import generation_end, generation_note_error
from generation.services.prompts import prompt_masked, prompt_with_trigger

logger = logging.getLogger(__name__)

Translation = Generation.PromptTranslation
# Stored on the job (operators, the API); the job page says it in the reader's language.
TRANSLATION_REFUSED = (
    "We could not translate the prompt to English, so nothing was sent and nothing was charged. "
    "Send it as typed, or reword it and try again."
)


def generation_translate_prompt(*, generation: Generation) -> bool:
    """Translate the job's typed prompt to English, once, and record it as the prompt to send.

    True when the job goes on (translated now or earlier, or nothing to translate); False when the
    translation was refused and the job has ended failed. Transient errors propagate, for the
    submit task to retry within its budget. A network call: call it outside any transaction, holding
    the job's lease (only one attempt translates; a retry after it was recorded does nothing).
    """
    if generation.prompt_translation != Translation.PENDING:
        return True
    pending = Generation.objects.filter(id=generation.id, prompt_translation=Translation.PENDING)
    backend = get_translation_backend()
    if not backend.translates:
        # The settings changed since the job was recorded (the Hub token was removed).
        pending.update(prompt_translation=Translation.NOT_TRANSLATED_DEMO)
        return True
    trigger_word = generation.training_run.trigger_word if generation.training_run else None
    masked = prompt_masked(generation.prompt_typed, trigger_word=trigger_word)
    try:
        english = masked.restore(backend.translate(masked.text, source_language=generation.prompt_language))
    except PermanentProviderError as error:
        logger.warning("generation %s: the prompt's translation was refused: %s", generation.id, error)
        generation_note_error(generation_id=generation.id, error=error)
        _refused(generation, kind=error.kind, message=TRANSLATION_REFUSED)
        return False
    prompt, _ = prompt_with_trigger(prompt=english, trigger_word=trigger_word)
    limit = settings.GENERATION_PROMPT_MAX_CHARS
    if len(prompt) > limit:
        # The typed prompt fitted (checked when the job was recorded); its English does not.
        logger.warning("generation %s: the English prompt has %s characters of %s", generation.id, len(prompt), limit)
        message = Generation.TRANSLATION_TOO_LONG.format(length=len(prompt), limit=limit)
        _refused(generation, kind=Kind.INVALID_INPUT, message=message)
        return False
    pending.update(prompt=prompt, prompt_translation=Translation.TRANSLATED)
    return True


def _refused(generation: Generation, *, kind: Kind, message: str) -> None:
    """End the job failed for its refused translation, and say so on the job, unless the job had
    ended meanwhile (canceled by its user while it was being translated: that job stays canceled,
    and its prompt is not called untranslatable)."""
    with transaction.atomic():
        ended = generation_end(generation_id=generation.id, status=Generation.Status.FAILED, kind=kind, message=message)
        if ended:
            Generation.objects.filter(id=generation.id, prompt_translation=Translation.PENDING).update(
                prompt_translation=Translation.FAILED
            )
