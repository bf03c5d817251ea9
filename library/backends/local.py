"""Offline analysis: only what is known. The words are the user's own description (photos) or the
prompt (generated images); the rest is what the file says: colours, orientation, camera, date, faces.

The project's name and category are filters, not words of the item: they are never written into its
caption, description or tags (they would make every item of a project match a query for its name)."""

import re

from django.utils import timezone
from django.utils.dateformat import format as date_format
from PIL import Image, ImageStat

from library.analysis import colour_name, phrases
from library.backends.base import Analysis, AnalysisBackend, Context

# What the mean brightness says, and no more (no mood, style or lens is guessed).
LIGHT = {True: "bright, high-key light", False: "dark, low-key light"}
# The look's other fixed phrases, in English (the image model reads it best); "Make more like this"
# offers them in the user's language (library/wording.py).
COMPOSITION = "{orientation} composition"
PALETTE = "colour palette of {colours}"
PALETTE_JOIN = " and "
PHOTOGRAPH = "photograph"
# The facts the description ends with (pages show them in the user's language, library/wording.py).
COLOURS_SENTENCE = "Colours: {colours}."
FACES_SENTENCE = {True: "{count} face.", False: "{count} faces."}  # one face, or more
CAMERA_SENTENCE = "Camera: {camera}."
TAKEN_SENTENCE = "Taken {date}."
TAKEN_DATE = "j F Y"
MAX_TAGS = 16
CAPTION_CHARS = 200


def _own_words(context: Context) -> str:
    """The description or prompt, without the training run's trigger word (a token, not a word)."""
    text = context.text
    if context.trigger_word:
        text = re.sub(rf"\b{re.escape(context.trigger_word)}\b", " ", text)
    return " ".join(text.split()).strip(" ,;:-")


def _subject(words: list[str], limit: int = 5) -> list[str]:
    """The phrases and words of the text without repeats: "blue painting", not also "blue" and "painting"."""
    kept: list[str] = []
    for word in words:
        if not any(set(word.split()) <= set(phrase.split()) for phrase in kept):
            kept.append(word)
    return kept[:limit]


def _first_sentence(text: str) -> str:
    """The text's first sentence, at most CAPTION_CHARS long, cut at a word."""
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(".")
    if len(sentence) <= CAPTION_CHARS:
        return sentence
    return sentence[: CAPTION_CHARS - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


class LocalAnalysisBackend(AnalysisBackend):
    name = "local"

    def analyse(self, *, image: Image.Image, context: Context) -> Analysis:
        colours = list(dict.fromkeys(colour_name(colour) for colour in context.colours))
        text = _own_words(context)
        words = phrases(text, limit=MAX_TAGS)
        facts: list[str] = [
            "generated" if context.kind == "generated" else "photo",
            context.orientation,
            *colours[:3],
            "people" if context.faces else "",
            context.camera,
        ]
        if context.taken_at is not None:
            taken = timezone.localtime(context.taken_at)
            facts += [str(taken.year), date_format(taken, "F Y").lower()]
        # Facts first in the budget: the words of a long description are cut, not the facts.
        room = MAX_TAGS - len([fact for fact in facts if fact])
        tags = list(dict.fromkeys([*words[:room], *(fact for fact in facts if fact)]))
        caption = _first_sentence(text)
        known = [COLOURS_SENTENCE.format(colours=", ".join(colours[:3])) if colours else ""]
        if context.faces:
            known.append(FACES_SENTENCE[context.faces == 1].format(count=context.faces))
        if context.camera:
            known.append(CAMERA_SENTENCE.format(camera=context.camera))
        if context.taken_at is not None:
            known.append(TAKEN_SENTENCE.format(date=date_format(timezone.localtime(context.taken_at), TAKEN_DATE)))
        sentence = f"{text}." if text and text[-1] not in ".!?…" else text
        description = " ".join(part for part in [sentence, *known] if part)
        bright = ImageStat.Stat(image.convert("L")).mean[0] > 120
        look = [
            ", ".join(_subject(words)),
            COMPOSITION.format(orientation=context.orientation),
            LIGHT[bright],
            PALETTE.format(colours=PALETTE_JOIN.join(colours[:3])) if colours else "",
            PHOTOGRAPH if context.kind == "photo" else "",
        ]
        aesthetic = ", ".join(part for part in look if part)
        return Analysis(caption=caption, description=description, aesthetic=aesthetic, tags=tags[:MAX_TAGS])
