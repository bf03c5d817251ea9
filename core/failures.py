"""What went wrong with paid work at a provider, in the user's words: one mapping for trainings and
generation jobs, so the same failure never reads two ways and every message says what to do next.

Providers report failures as free text (a trainer's traceback, a prediction's `error`) or as HTTP
answers; `classify` reads either into a `Kind`, and `explain` turns the kind into the message
shown on the run or job page and in the email.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Kind(StrEnum):
    OUT_OF_MEMORY = "out_of_memory"
    NSFW = "nsfw"
    INVALID_INPUT = "invalid_input"
    DEADLINE = "deadline"
    BILLING = "billing"
    AUTHENTICATION = "authentication"
    EXPIRED_OUTPUTS = "expired_outputs"
    BAD_OUTPUT = "bad_output"
    PROVIDER_CANCELED = "provider_canceled"
    PROVIDER_DOWN = "provider_down"
    USER_CANCELED = "user_canceled"
    INTERNAL = "internal"  # our own error (a bug, a database hiccup), not the provider's
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Explanation:
    message: str | Promise
    advice: str | Promise

    def __str__(self) -> str:
        return f"{self.message} {self.advice}".strip()


# Checked in order: the first pattern that matches the provider's text decides.
PATTERNS: list[tuple[Kind, re.Pattern]] = [
    (Kind.OUT_OF_MEMORY, re.compile(r"out of memory|CUDA error: out of memory|OutOfMemoryError|\bOOM\b", re.I)),
    (Kind.NSFW, re.compile(r"nsfw|safety checker|inappropriate content|flagged as sensitive", re.I)),
    (Kind.BILLING, re.compile(r"billing|payment|insufficient credit|spend limit|quota|free time limit", re.I)),
    (Kind.AUTHENTICATION, re.compile(r"unauthenticated|authentication|invalid (api )?token|permission denied", re.I)),
    (Kind.DEADLINE, re.compile(r"deadline|timed? ?out|time limit", re.I)),
    (
        Kind.INVALID_INPUT,
        re.compile(r"invalid|validation|must be|is required|not a zip|unsupported|could not (read|open|decode)", re.I),
    ),
]
STATUS_KINDS = {401: Kind.AUTHENTICATION, 402: Kind.BILLING, 403: Kind.AUTHENTICATION, 404: Kind.UNKNOWN}


def classify(text: str = "", *, status_code: int | None = None) -> Kind:
    """The kind of a failure from the provider's words and, for HTTP answers, its status code."""
    for kind, pattern in PATTERNS:
        if pattern.search(text or ""):
            return kind
    if status_code in STATUS_KINDS:
        return STATUS_KINDS[status_code]
    if status_code == 422 or (status_code is not None and 400 <= status_code < 500 and status_code != 429):
        return Kind.INVALID_INPUT
    if status_code is not None:
        return Kind.PROVIDER_DOWN
    return Kind.UNKNOWN


def reason_of(text: str) -> str:
    """The last line of a provider's error (a traceback ends with the exception), shortened."""
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


TRAINING = {
    Kind.OUT_OF_MEMORY: Explanation(
        _("The provider's GPU ran out of memory during the training."),
        _("This is not caused by your photos: retry, or choose the Fast or Balanced preset."),
    ),
    Kind.NSFW: Explanation(
        _("The provider refused the training because its safety checker flagged the photos."),
        _("Replace the flagged photos, then retry."),
    ),
    Kind.INVALID_INPUT: Explanation(
        _("The provider could not use the training data."),
        _("Check that every photo opens and is described, then retry."),
    ),
    Kind.DEADLINE: Explanation(
        _("The training ran past its time limit."),
        _("Retry it; if it happens again, choose a preset with fewer steps."),
    ),
    Kind.BILLING: Explanation(
        _("The provider refused the training for billing reasons (credit or spend limit)."),
        _("This is on our side, not yours: we have been alerted; retry later."),
    ),
    Kind.AUTHENTICATION: Explanation(
        _("The provider refused our credentials."),
        _("This is on our side, not yours: we have been alerted; retry later."),
    ),
    Kind.EXPIRED_OUTPUTS: Explanation(
        _("The training finished, but the provider had already deleted its LoRA before we could fetch it."),
        _("Retry the training."),
    ),
    Kind.BAD_OUTPUT: Explanation(
        _("The training finished, but the file it produced is not a usable LoRA."),
        _("Retry the training."),
    ),
    Kind.PROVIDER_CANCELED: Explanation(
        _("The provider canceled this training (you did not ask for it)."),
        _("Retry it when you are ready."),
    ),
    Kind.PROVIDER_DOWN: Explanation(
        _("The provider kept failing while we worked on this training."),
        _("Retry it later."),
    ),
    Kind.USER_CANCELED: Explanation(_("You canceled this training."), ""),
    Kind.INTERNAL: Explanation(
        _("Something went wrong on our side while working on this training."), _("We have been alerted; retry it.")
    ),
    Kind.UNKNOWN: Explanation(_("The training failed at the provider."), _("Retry it; if it fails again, contact us.")),
}
GENERATION = {
    Kind.OUT_OF_MEMORY: Explanation(
        _("The provider's GPU ran out of memory while making these images."),
        _("Try again, with fewer images or a smaller aspect ratio."),
    ),
    Kind.NSFW: Explanation(
        _("The provider's safety checker flagged these images, so none were returned."),
        _("Change the prompt and try again."),
    ),
    Kind.INVALID_INPUT: Explanation(
        _("The provider refused the settings of this job."), _("Change them and try again.")
    ),
    Kind.DEADLINE: Explanation(_("The images were not ready in time, so we stopped the job."), _("Try again.")),
    Kind.BILLING: Explanation(
        _("The provider refused the job for billing reasons (credit or spend limit)."),
        _("This is on our side, not yours: we have been alerted; try again later."),
    ),
    Kind.AUTHENTICATION: Explanation(
        _("The provider refused our credentials."),
        _("This is on our side, not yours: we have been alerted; try again later."),
    ),
    Kind.EXPIRED_OUTPUTS: Explanation(
        _("The provider deleted the images before we could fetch them."), _("Try again (same settings).")
    ),
    Kind.BAD_OUTPUT: Explanation(_("The provider returned something that is not an image."), _("Try again.")),
    Kind.PROVIDER_CANCELED: Explanation(_("The provider canceled this job."), _("Try again.")),
    Kind.PROVIDER_DOWN: Explanation(_("The provider kept failing while we worked on this job."), _("Try again later.")),
    Kind.USER_CANCELED: Explanation(_("You canceled this job."), ""),
    Kind.INTERNAL: Explanation(
        _("Something went wrong on our side while working on this job."), _("We have been alerted; try again.")
    ),
    Kind.UNKNOWN: Explanation(_("The provider could not make these images."), _("Try again.")),
}


class Messages(Mapping[str, str]):
    """Messages marked for translation, by key: each lookup gives the text as it is stored, in
    English (a plain str, safe to store, format or send to a task); `shown` translates it."""

    def __init__(self, messages: dict[str, Promise]):
        self._messages = messages

    def __getitem__(self, key: str) -> str:
        with translation.override(settings.LANGUAGE_CODE):
            return str(self._messages[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._messages)

    def __len__(self) -> int:
        return len(self._messages)


def explain(kind: Kind, *, subject: str, detail: str = "") -> str:
    """The text of a failure of a "training" or "generation" as it is stored: message, detail,
    advice, in English whichever request or worker ends the work (`shown` puts it in the reader's
    language; the provider's own words in `detail` stay as they are)."""
    explanation = (TRAINING if subject == "training" else GENERATION)[kind]
    with translation.override(settings.LANGUAGE_CODE):
        message = str(explanation.message)
        detail = " ".join(detail.split())
        if detail:
            message = gettext("%(message)s: %(detail)s.") % {
                "message": message.rstrip("."),
                "detail": detail.rstrip("."),
            }
        return f"{message} {explanation.advice}".strip()


# The provider's own deadline ended the work before it started ("aborted").
ABORTED = Messages(
    {
        "training": _(
            "The provider stopped the training before it started (it hit the provider's deadline). "
            "Nothing was charged. Retry it."
        ),
        "generation": _(
            "The provider stopped the job before it started (it hit its deadline). Nothing was charged. Try again."
        ),
    }
)
# What a run or job that stayed too long in one state is told: {minutes} is that state's deadline.
TRAINING_DEADLINES = Messages(
    {
        "queued": _(
            "Our workers did not pick this training up within {minutes} minutes. Nothing was charged. Retry it."
        ),
        "submitting": _(
            "The provider did not accept this training within {minutes} minutes. Nothing was charged. Retry it later."
        ),
        "starting": _(
            "The provider did not start this training within {minutes} minutes (no GPU became free), "
            "so we canceled it before it started. Nothing was charged. Retry it later."
        ),
        "training": _(
            "The training ran longer than {minutes} minutes, so we stopped it. The GPU time it used is billed. "
            "Retry it, or choose a preset with fewer steps."
        ),
        "publishing": _(
            "The training finished, but we could not fetch and store its LoRA within {minutes} minutes. "
            "The GPU time of the training is billed. Retry the training."
        ),
    }
)
# A step that failed every one of its attempts.
TRAINING_EXHAUSTED = Messages(
    {
        "submitting": _("We could not start this training at the provider ({attempts} attempts). Nothing was charged."),
        "publishing": _("The training finished, but storing its LoRA failed {attempts} times. Its GPU time is billed."),
    }
)
GENERATION_DEADLINES = Messages(
    {
        "queued": _("Our workers did not pick this job up within {minutes} minutes. Nothing was charged. Try again."),
        "submitting": _(
            "The provider did not take this job within {minutes} minutes. Nothing was charged. Try again later."
        ),
        "running": _("No result after {minutes} minutes, so we stopped the job. Try again."),
        "collecting": _("The images were made, but we could not fetch them within {minutes} minutes. Try again."),
    }
)
# Images the provider made but we could not store ({problems}: what went wrong with each).
IMAGES_NOT_STORED = Messages(
    {
        "none": _("No image could be stored: {problems}"),
        "some": _("{stored} of {total} images stored: {problems}"),
    }
)
GENERATION_EXHAUSTED = Messages(
    {
        "submitting": _("We could not start this job at the provider ({attempts} attempts)."),
        "collecting": _("The images were made, but fetching them failed {attempts} times."),
    }
)


def kind_of_last_error(last_error: str) -> Kind:
    """What a step's repeated failures were: ours (an unexpected error) or the provider's."""
    return Kind.INTERNAL if (last_error or "").startswith("unexpected ") else Kind.PROVIDER_DOWN


def with_last_error(message: str, last_error: str) -> str:
    first_line = (last_error or "").strip().splitlines()[:1]
    if not first_line:
        return message
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("%(message)s (Last error: %(error)s.)") % {
            "message": message,
            "error": first_line[0].rstrip(".")[:200],
        }


# Shown in the reader's language
# ------------------------------------------------------------------------------
# A failure's text is written once, by a worker (in English), and read later by people in other
# languages: pages and emails re-read it sentence by sentence and put each of the sentences above
# in the active language; the provider's own words in it stay as they are.


def _sentences() -> list[str]:
    """Every sentence a failure's text is made of, in the active language (called in English)."""
    pieces: list[str] = []
    for explanations in (TRAINING, GENERATION):
        for explanation in explanations.values():
            pieces += [str(explanation.message), str(explanation.advice)]
    for messages in (
        ABORTED,
        TRAINING_DEADLINES,
        TRAINING_EXHAUSTED,
        GENERATION_DEADLINES,
        GENERATION_EXHAUSTED,
        IMAGES_NOT_STORED,
    ):
        pieces += list(messages.values())
    return sorted({piece for piece in pieces if piece}, key=len, reverse=True)


def _pattern(english: str) -> re.Pattern:
    """The sentence with its {placeholders} as groups; a sentence that takes a provider's detail
    ("…: <detail>.") may end at the colon."""
    pattern = re.escape(english)
    for name in re.findall(r"\{(\w+)\}", english):
        group = r".+" if name == "problems" else r"\d+"
        pattern = pattern.replace(re.escape("{" + name + "}"), rf"(?P<{name}>{group})", 1)
    if english.endswith("."):
        pattern = pattern[: -len(re.escape("."))] + r"(?:\.|: (?P<detail>.+?)\.(?= |$))"
    return re.compile(pattern)


LAST_ERROR = re.compile(r"^(?P<text>.*) \(Last error: (?P<error>.*)\.\)$", re.S)


def shown(text: str) -> str:
    """A stored failure text in the active language (unchanged in English)."""
    if not text or translation.get_language() in (None, settings.LANGUAGE_CODE):
        return text
    last_error = LAST_ERROR.match(text)
    if last_error:
        return gettext("%(message)s (Last error: %(error)s.)") % {
            "message": shown(last_error["text"]),
            "error": last_error["error"],
        }
    with translation.override(settings.LANGUAGE_CODE):
        patterns = [(english, _pattern(english)) for english in _sentences()]
    out: list[str] = []
    position = 0
    while position < len(text):
        for english, pattern in patterns:
            match = pattern.match(text, position)
            if match:
                values = {name: value for name, value in match.groupdict().items() if name != "detail"}
                sentence = gettext(english).format(**values)
                if match.groupdict().get("detail") is not None:
                    sentence = gettext("%(message)s: %(detail)s.") % {
                        "message": sentence.rstrip("."),
                        "detail": match["detail"],
                    }
                out.append(sentence)
                position = match.end()
                break
        else:
            out.append(text[position])
            position += 1
    return "".join(out)
