""" "Make more like this" in the user's language, sent in English.

An item's look (LibraryItem.aesthetic) is written in English, the language FLUX reads best. The
offline analysis (library/backends/local.py) builds it from the item's own words and a few fixed
phrases ("landscape composition", "bright, high-key light", "colour palette of red and blue",
"photograph"); the page offers the look with those phrases in the user's language. The item's own
words are data and stay as they are, and so does a vision model's free text.

The form goes through the library (views.items.item_inspire): the offered text, left as it was,
opens the generation form with the English look; an edited text opens it with what the user wrote,
which the generation form translates before submitting like any prompt typed there.
"""

import re

from django.utils.translation import gettext, pgettext

from library.backends.local import COMPOSITION, LIGHT, PALETTE, PALETTE_JOIN, PHOTOGRAPH

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
