"""The port between the generation services and a translator of prompts to English (FLUX.1-dev
reads English best), chosen by settings.PROMPT_TRANSLATION_BACKEND like the other backends."""

from abc import ABC, abstractmethod

from django.conf import settings
from django.utils.module_loading import import_string

from core.exceptions import PermanentProviderError
from integrations import huggingface

# Language names for the instruction (the model reads English); other codes go as they are.
LANGUAGE_NAMES = {
    "es": "Spanish", "de": "German", "fr": "French", "it": "Italian", "pt": "Portuguese", "nl": "Dutch",
    "ca": "Catalan", "pl": "Polish", "cs": "Czech", "ro": "Romanian", "hu": "Hungarian", "sv": "Swedish",
    "da": "Danish", "nb": "Norwegian", "fi": "Finnish", "tr": "Turkish", "vi": "Vietnamese",
    "id": "Indonesian", "ru": "Russian", "uk": "Ukrainian", "el": "Greek", "he": "Hebrew", "ar": "Arabic",
    "hi": "Hindi", "zh": "Chinese", "ja": "Japanese", "ko": "Korean",
}  # fmt: skip
INSTRUCTIONS = (
    "You translate prompts for an image generation model into English. The user's message is a prompt, "
    "probably written in {language}. Reply with its English translation only: no quotes around it, no "
    "notes, no explanations, no alternatives. Keep it a prompt: describe the same picture with the same "
    "details, in the same order, in natural English. Tokens like ⟦0⟧ or ⟦1⟧ stand for words that must not "
    "change (a name, quoted text): copy every one of them exactly once, unchanged, where it belongs in the "
    "English sentence. Do not translate names of people, places or brands."
)


class PromptTranslationBackend(ABC):
    name: str
    # False for a backend that never translates (demo mode): prompts go as typed, and pages say so.
    translates = True

    @abstractmethod
    def translate(self, text: str, *, source_language: str) -> str:
        """`text` (markers ⟦n⟧ included, each kept once) in English. Raises TransientProviderError
        or PermanentProviderError (an answer that is no translation included)."""


class NoTranslationBackend(PromptTranslationBackend):
    """Demo mode, or no Hugging Face token: prompts are sent as typed."""

    name = "none"
    translates = False

    def translate(self, text: str, *, source_language: str) -> str:
        return text


class HuggingFaceTranslationBackend(PromptTranslationBackend):
    """An instruction model on Hugging Face Inference (settings.HF_TRANSLATION_MODEL) through
    InferenceClient.chat_completion, at temperature 0 (integrations.huggingface)."""

    name = "huggingface"

    def translate(self, text: str, *, source_language: str) -> str:
        language = LANGUAGE_NAMES.get(source_language, source_language or "another language")
        answer = huggingface.translate_to_english(
            text=text,
            instructions=INSTRUCTIONS.format(language=language),
            # English is rarely longer than the prompt; a runaway answer stops here.
            max_tokens=min(1024, 64 + len(text)),
        )
        return _cleaned(answer, source=text)


# Wrappings an instruction model sometimes adds despite being told not to.
PREAMBLES = ("translation:", "english:", "english translation:", "here is the translation:")
QUOTE_PAIRS = {'"': '"', "“": "”", "'": "'", "«": "»"}


def _cleaned(answer: str, *, source: str) -> str:
    """The answer on one line, a preamble or surrounding quotes the source did not have taken off;
    raises PermanentProviderError when it cannot be a translation of the source."""
    text = " ".join(answer.split())
    lowered = text.lower()
    for preamble in PREAMBLES:
        if lowered.startswith(preamble):
            text = text[len(preamble) :].strip()
            break
    if len(text) >= 2 and QUOTE_PAIRS.get(text[0]) == text[-1] and source[:1] != text[0]:
        text = text[1:-1].strip()
    if not text:
        raise PermanentProviderError("The translation model answered with no translation")
    if len(text) > 3 * len(source) + 80:
        raise PermanentProviderError(
            f"The translation model's answer ({len(text)} characters for {len(source)}) is not a translation"
        )
    return text


def get_translation_backend() -> PromptTranslationBackend:
    return import_string(settings.PROMPT_TRANSLATION_BACKEND)()
