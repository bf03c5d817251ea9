"""The prompt a job is made with: the trigger word, what becomes of a prompt typed in another
language than English, and the parts a translation keeps as typed."""

import re
from dataclasses import dataclass

from core.exceptions import PermanentProviderError
from core.failures import Kind
from generation.backends.translation import get_translation_backend
from generation.languages import ENGLISH, detect_language
from generation.models import Generation
from generation.selectors import prompt_english_original

Translation = Generation.PromptTranslation

# The parts of a prompt that are never translated go to the translator as numbered markers.
MARKER = "⟦{}⟧"
# A translator may space a marker out ("⟦ 0 ⟧"); anything else about it must be kept.
MARKER_FOUND = re.compile(r"⟦\s*(\d+)\s*⟧")
# Quoted text (a sign's words, a name) is kept as typed, its quotes too: "…" “…” „…“ «…» »…« ‘…’ ‹…› 「…」 『…』,
# and '…' when the quote is not an apostrophe (l'homme, don't).
QUOTED = re.compile(
    r"""
      "[^"\n]+"
    | “[^”\n]+”
    | „[^“”\n]+[“”]
    | «[^»\n]+»
    | »[^«\n]+«
    | ‘[^’\n]+’
    | ‹[^›\n]+›
    | 「[^」\n]+」
    | 『[^』\n]+』
    | (?<!\w)'[^'\s][^'\n]*(?<=\S)'(?!\w)
    """,
    re.VERBOSE,
)


def prompt_tidy(prompt: str) -> str:
    """The prompt on one line, with single spaces."""
    return " ".join(prompt.split())


def _has_word(prompt: str, word: str) -> bool:
    return bool(re.search(rf"\b{re.escape(word)}\b", prompt))


def prompt_with_trigger(*, prompt: str, trigger_word: str | None) -> tuple[str, bool]:
    """The prompt with the model's trigger word in it, and whether we had to add it."""
    prompt = prompt_tidy(prompt)
    if not trigger_word or _has_word(prompt, trigger_word):
        return prompt, False
    return f"a photo of {trigger_word}, {prompt}", True


class MarkersLost(PermanentProviderError):
    """A translation lost, repeated or made up a marker: the kept parts cannot be put back, and the
    prompt must not be sent broken."""

    kind = Kind.BAD_OUTPUT


@dataclass(frozen=True)
class MaskedPrompt:
    """A prompt whose kept parts (the trigger word, quotations) are markers: `text` goes to the
    translator, `restore` puts the parts back into its answer."""

    text: str
    kept: tuple[str, ...]

    def without_kept(self) -> str:
        """The words that are the prompt's own language (for telling which one it is)."""
        return prompt_tidy(MARKER_FOUND.sub(" ", self.text))

    def restore(self, translation: str) -> str:
        """The translation with the kept parts back in place; raises MarkersLost unless every
        marker is in it exactly once and no other is."""
        found = [int(number) for number in MARKER_FOUND.findall(translation)]
        if sorted(found) != list(range(len(self.kept))):
            raise MarkersLost(
                f"The translation kept markers {sorted(found)} of {list(range(len(self.kept)))}: "
                f"the trigger word or quoted text would be lost or repeated"
            )
        return prompt_tidy(MARKER_FOUND.sub(lambda match: self.kept[int(match.group(1))], translation))


def prompt_masked(prompt: str, *, trigger_word: str | None) -> MaskedPrompt:
    """The prompt with its quotations and the trigger word as markers, numbered in reading order
    (a quotation holding the trigger word is one marker)."""
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group(0))
        return MARKER.format(len(kept) - 1)

    # A marker-like text the user typed is kept as typed too, so no number is ever ambiguous.
    parts = [r"⟦[^⟧]*⟧", QUOTED.pattern]
    if trigger_word:
        parts.append(rf"\b{re.escape(trigger_word)}\b")
    pattern = re.compile("|".join(f"(?:{part})" for part in parts), re.VERBOSE)
    return MaskedPrompt(text=pattern.sub(keep, prompt_tidy(prompt)), kept=tuple(kept))


@dataclass(frozen=True)
class PromptPlan:
    """What a new job does with its typed prompt: its language, its translation status, and the
    English to send when it is already known (a template's or suggestion's original)."""

    language: str
    translation: str
    english: str | None = None


def prompt_plan(
    *,
    prompt: str,
    trigger_word: str | None,
    translate: bool,
    suggestion: str = "",
    interface_language: str | None = None,
) -> PromptPlan:
    """Decide, offline, what becomes of a typed prompt (no translation happens here). The language
    the user reads the site in (`interface_language`) tells the language of a terse prompt."""
    typed = prompt_tidy(prompt)
    original = prompt_english_original(prompt=typed, trigger_word=trigger_word, suggestion=suggestion)
    if translate and original is not None:
        language, english = original
        return PromptPlan(language=language, translation=Translation.ORIGINAL, english=english)
    language = detect_language(prompt_masked(typed, trigger_word=trigger_word).without_kept(), prior=interface_language)
    if language == ENGLISH:
        return PromptPlan(language=language, translation=Translation.NOT_NEEDED)
    if not translate:
        return PromptPlan(language=language, translation=Translation.OFF)
    if not get_translation_backend().translates:
        return PromptPlan(language=language, translation=Translation.NOT_TRANSLATED_DEMO)
    return PromptPlan(language=language, translation=Translation.PENDING)
