"""The offline analysis's fixed English phrases, shown in the user's language; and "Make more like
this", offered in the user's language and sent in English.

An item's look (LibraryItem.aesthetic) and description are written in English, the language FLUX
and search read. The offline analysis (library/backends/local.py) builds them from the item's own
words and a few fixed phrases ("landscape composition", "colour palette of red and blue",
"Colours: red, blue.", "Taken 5 June 2024."); pages show those phrases in the user's language. The
item's own words are data and stay as they are, and so does a vision model's free text.

The look's form goes through the library (views.items.item_inspire): the offered text, left as it
was, opens the generation form with the English look; an edited text opens it with what the user
wrote, which the generation form translates before submitting like any prompt typed there.
"""

import re
from datetime import date

from django.utils import formats
from django.utils.translation import gettext, ngettext, pgettext

from library.backends.local import (
    CAMERA_SENTENCE,
    COLOURS_SENTENCE,
    COMPOSITION,
    FACES_SENTENCE,
    LIGHT,
    PALETTE,
    PALETTE_JOIN,
    PHOTOGRAPH,
    TAKEN_SENTENCE,
)

SEPARATOR = ", "


def _colour(name: str) -> str | None:
    """A colour of the palette (library.analysis.COLOUR_NAMES) in the active language."""
    names = {
        "black": pgettext("colour", "black"),
        "white": pgettext("colour", "white"),
        "grey": pgettext("colour", "grey"),
        "red": pgettext("colour", "red"),
        "orange": pgettext("colour", "orange"),
        "yellow": pgettext("colour", "yellow"),
        "green": pgettext("colour", "green"),
        "teal": pgettext("colour", "teal"),
        "blue": pgettext("colour", "blue"),
        "navy": pgettext("colour", "navy"),
        "purple": pgettext("colour", "purple"),
        "pink": pgettext("colour", "pink"),
        "brown": pgettext("colour", "brown"),
        "beige": pgettext("colour", "beige"),
    }
    return names.get(name)


def _palette(phrase: str) -> str | None:
    match = re.fullmatch(re.escape(PALETTE).replace(r"\{colours\}", "(.+)"), phrase)
    if not match:
        return None
    colours = [_colour(name) for name in match.group(1).split(PALETTE_JOIN)]
    if None in colours or not 1 <= len(colours) <= 3:
        return None
    names = dict(zip(("first", "second", "third"), colours, strict=False))
    if len(colours) == 1:
        return gettext("colour palette of %(first)s") % names
    if len(colours) == 2:
        return gettext("colour palette of %(first)s and %(second)s") % names
    # As the English look says it (PALETTE_JOIN between each); the translations list them.
    return gettext("colour palette of %(first)s and %(second)s and %(third)s") % names


def _fixed_phrases() -> dict[str, str]:
    """The analysis's fixed phrases, in English, and in the active language."""
    return {
        COMPOSITION.format(orientation="landscape"): gettext("landscape composition"),
        COMPOSITION.format(orientation="portrait"): gettext("portrait composition"),
        COMPOSITION.format(orientation="square"): gettext("square composition"),
        LIGHT[True]: gettext("bright, high-key light"),
        LIGHT[False]: gettext("dark, low-key light"),
        PHOTOGRAPH: pgettext("the kind of picture, in a prompt", "photograph"),
    }


def look_offered(look: str) -> str:
    """The look as the page offers it: the fixed phrases in the active language, the rest as is."""
    fixed = _fixed_phrases()
    parts = look.split(SEPARATOR)
    offered: list[str] = []
    index = 0
    while index < len(parts):
        # A phrase may hold the separator itself ("bright, high-key light").
        pair = SEPARATOR.join(parts[index : index + 2])
        if index + 1 < len(parts) and pair in fixed:
            offered.append(fixed[pair])
            index += 2
            continue
        part = parts[index]
        offered.append(fixed.get(part) or _palette(part) or part)
        index += 1
    return SEPARATOR.join(offered)


def offer(look: str, *, max_chars: int) -> tuple[str, str]:
    """The look to send (English) and to show (the active language), each cut to what the
    generation form accepts."""
    english = look[:max_chars]
    return english, look_offered(english)[:max_chars]


def _same(one: str, other: str) -> bool:
    return " ".join(one.split()) == " ".join(other.split())


def prompt_to_send(*, look: str, typed: str, max_chars: int) -> str:
    """What opens the generation form: the English look when the user sent the offered text (or the
    English itself) as it was, else what they wrote."""
    english, offered = offer(look, max_chars=max_chars)
    if _same(typed, english) or _same(typed, offered):
        return english
    return typed.strip()


# The description's facts
# ------------------------------------------------------------------------------

MONTHS = ("January February March April May June July August September October November December").split()


def _pattern(template: str, **groups: str) -> re.Pattern:
    """A sentence template of the analysis as a pattern matching it at the end of a description."""
    pattern = re.escape(template)
    for name, group in groups.items():
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>{group})")
    return re.compile(rf"(?:^|(?<= )){pattern}$")


def _colours_sentence(match: re.Match) -> str | None:
    colours = [_colour(name) for name in match["colours"].split(", ")]
    if None in colours:
        return None
    return gettext("Colours: %(colours)s.") % {"colours": ", ".join(str(colour) for colour in colours)}


def _faces_sentence(match: re.Match) -> str:
    count = int(match["count"])
    return ngettext("%(count)s face.", "%(count)s faces.", count) % {"count": count}


def _taken_sentence(match: re.Match) -> str:
    day = date(int(match["year"]), MONTHS.index(match["month"]) + 1, int(match["day"]))
    return gettext("Taken %(date)s.") % {"date": formats.date_format(day, "DATE_FORMAT")}


# From the last sentence back, as the analysis appends them.
_FACTS = [
    (
        _pattern(TAKEN_SENTENCE, date=rf"(?P<day>\d{{1,2}}) (?P<month>{'|'.join(MONTHS)}) (?P<year>\d{{4}})"),
        _taken_sentence,
    ),
    (
        _pattern(CAMERA_SENTENCE, camera=r"(?:(?! Camera: )[^\n])+"),
        lambda match: gettext("Camera: %(camera)s.") % {"camera": match["camera"]},
    ),
    (_pattern(FACES_SENTENCE[False], count=r"\d+"), _faces_sentence),
    (_pattern(FACES_SENTENCE[True], count=r"1"), _faces_sentence),
    (_pattern(COLOURS_SENTENCE, colours=r"[a-z]+(?:, [a-z]+)*"), _colours_sentence),
]


def description_shown(description: str) -> str:
    """The description with the facts the offline analysis ends it with (colours, faces, camera,
    date) in the active language; the item's own words, and any other text, as they are."""
    rest, shown = description, []
    for pattern, translate in _FACTS:
        match = pattern.search(rest)
        if match is None:
            continue
        translated = translate(match)
        if translated is None:
            continue
        shown.insert(0, translated)
        rest = rest[: match.start()].rstrip()
    return " ".join([rest, *shown]) if rest else " ".join(shown)
