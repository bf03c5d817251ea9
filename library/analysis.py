"""What can be read off an image locally: colours, EXIF facts, hashes, sharpness, faces.

Used by every analysis backend; the local backend also builds its words from these facts.
"""

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import imagehash
from django.utils import timezone
from PIL import ExifTags, Image, ImageOps

from projects import imaging

# Named colours for tags and the aesthetic description (sRGB).
COLOUR_NAMES = {
    "black": (20, 20, 20),
    "white": (240, 240, 240),
    "grey": (128, 128, 128),
    "red": (200, 40, 40),
    "orange": (235, 140, 40),
    "yellow": (235, 210, 60),
    "green": (60, 150, 70),
    "teal": (40, 140, 140),
    "blue": (50, 90, 200),
    "navy": (30, 40, 90),
    "purple": (130, 60, 160),
    "pink": (235, 140, 180),
    "brown": (120, 80, 50),
    "beige": (215, 195, 160),
}
# Words that say nothing about what is in a picture: function words, filler verbs of position, and
# the words for "a picture" itself. Dropped from tags and from the query words that are matched.
STOPWORDS = set(
    "a an the and or but nor so yet of on in at to with without for by from is are was were be been being am "
    "this that these those it its as into onto upon over under near beside besides behind below beneath above "
    "between among amongst amid amidst around across along through throughout during before after against "
    "within toward towards off out up down about via per than then there here where when while which who whom "
    "whose what how why all any both each every few more most other some such no not only own same very just "
    "also too can will would could should may might must shall do does did done has have had having "
    "i me my mine we us our ours you your yours he him his she her hers they them their theirs one ones "
    "resting sitting standing lying laying placed sits stands lies rests seen showing shows shown "
    "featuring features depicting depicts looking taken made using next front "
    "really quite rather lot lots bit like maybe perhaps probably almost nearly again ever never always often "
    "even much many several another else etc get got go went see saw use used let "
    "photo photos photograph picture image shot view product products thing things something".split()
)
# Letters of any script: "café", "Zürich" and "schläft" are words, not "caf", "rich" and "schl".
WORD = re.compile(r"[^\W\d_][\w'-]{2,}")
# Words that end like a verb form (-ing, -ed) but name a thing or a colour ("a blue painting", "a
# wooden shed"): they belong to their phrase.
NOT_VERB_FORMS = set(
    "painting paintings building buildings ceiling clothing evening morning wedding spring string ring "
    "king wing thing pudding icing frosting railing lighting drawing drawings sibling landing opening "
    "swing duckling seedling dumpling sapling earring earrings awning bedding flooring "
    "stuffing topping dressing sling "
    "red bed shed seed sled reed weed steed speed breed tweed seaweed hundred".split()
)


@dataclass(frozen=True)
class ImageFacts:
    width: int
    height: int
    colours: list[str]
    sha256: str
    phash: str
    sharpness: float
    camera: str = ""
    taken_at: datetime | None = None


def colour_name(hex_colour: str) -> str:
    rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return min(COLOUR_NAMES, key=lambda name: sum((a - b) ** 2 for a, b in zip(COLOUR_NAMES[name], rgb, strict=True)))


def dominant_colours(image: Image.Image, count: int = 4) -> list[str]:
    small = image.convert("RGB").resize((64, 64))
    palette = small.quantize(colors=count, method=Image.Quantize.MEDIANCUT)
    colours = (palette.getpalette() or [])[: count * 3]
    # A palette image counts its pixels per palette index: (count, index) pairs.
    by_share = sorted(cast(list[tuple[int, int]], palette.getcolors() or []), reverse=True)
    return ["#{:02x}{:02x}{:02x}".format(*colours[index * 3 : index * 3 + 3]) for _, index in by_share if index < count]


def _exif(image: Image.Image) -> tuple[str, datetime | None]:
    exif = image.getexif()
    make = str(exif.get(ExifTags.Base.Make, "")).strip("\x00 ")
    model = str(exif.get(ExifTags.Base.Model, "")).strip("\x00 ")
    camera = model if make and model.lower().startswith(make.lower()) else f"{make} {model}".strip()
    raw = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    taken_at = None
    if raw:
        try:
            # EXIF times carry no zone: read them as the site's local time.
            taken_at = timezone.make_aware(
                datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007
            )
        except ValueError:
            taken_at = None
    return camera[:100], taken_at


def image_facts(content: bytes) -> tuple[ImageFacts, Image.Image]:
    """The facts, and an upright RGB copy (long side at most 1024) for the backends."""
    with Image.open(io.BytesIO(content)) as original:
        camera, taken_at = _exif(original)
        original.draft("RGB", (1024, 1024))
        upright = ImageOps.exif_transpose(original).convert("RGB")
    upright.thumbnail((1024, 1024))
    facts = ImageFacts(
        width=upright.width,
        height=upright.height,
        colours=dominant_colours(upright),
        sha256=hashlib.sha256(content).hexdigest(),
        phash=str(imagehash.phash(upright)),
        sharpness=imaging.blur_score(upright),
        camera=camera,
        taken_at=taken_at,
    )
    return facts, upright


def _plain(text: str) -> str:
    """Lower case, typographic apostrophes made plain, "close up" one word as photographers write it."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\bclose[ -]up\b", "close-up", text)


def _content_word(token: str) -> str:
    """The token as a content word, or "" for a stop-word, a contraction ("it's", "don't") or no word.
    A possessive keeps its owner: "sister's" is "sister"."""
    word = token.strip("'-")
    if word.endswith("'s"):
        word = word[:-2]
    if "'" in word or not WORD.fullmatch(word) or word in STOPWORDS:
        return ""
    return word


def keywords(text: str, limit: int = 12) -> list[str]:
    """Distinct content words of a text, in order of first use."""
    seen: list[str] = []
    for token in WORD.findall(_plain(text)):
        word = _content_word(token)
        if word and word not in seen:
            seen.append(word)
    return seen[:limit]


def _ends_a_noun_phrase(run: list[str], word: str) -> bool:
    """An -ing verb after its subject ("clouds gathering") starts a run of its own (a trailing -ed
    participle, "a notebook closed", is left out when the run closes)."""
    if not run or word in NOT_VERB_FORMS:
        return False
    return word.endswith("ing") and len(word) > 5


def phrases(text: str, limit: int = 12) -> list[str]:
    """Tags from a text: each run of content words as a phrase ("acacia trees"; its last three when
    longer: "green paper bird" of "little green paper bird"), then its words, distinct, in order of
    first use. Stop-words and punctuation end a run, and so does a verb after its subject ("dark
    storm clouds gathering" gives "dark storm clouds" and "gathering")."""
    found: list[str] = []

    def close(run: list[str]) -> None:
        # A trailing participle is what the subject does ("boats pulled up"), not a kind of boat.
        head = run[:-1] if len(run) > 1 and run[-1].endswith("ed") and run[-1] not in NOT_VERB_FORMS else run
        if len(head) >= 2:
            found.append(" ".join(head[-3:]))
        found.extend(run)

    for clause in re.split(r"[^\w' -]+|[\d_]+", _plain(text)):
        run: list[str] = []
        for token in [*clause.split(), ""]:
            word = _content_word(token)
            if word and _ends_a_noun_phrase(run, word):
                close(run)
                run = [word]
            elif word:
                run.append(word)
            else:
                close(run)
                run = []
            if word and token.strip("-").endswith("'s"):
                # An owner ends its phrase: "my sister's dog" is "sister" and "dog", not "sister dog".
                close(run)
                run = []
    return list(dict.fromkeys(found))[:limit]
