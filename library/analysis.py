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
    "featuring features depicting depicts looking taken made using next "
    "photo photos photograph picture image shot view product products thing things something".split()
)
WORD = re.compile(r"[a-z][a-z'-]{2,}")


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


def keywords(text: str, limit: int = 12) -> list[str]:
    """Distinct content words of a text, in order of first use."""
    seen: list[str] = []
    for word in WORD.findall(text.lower()):
        word = word.strip("'-")
        if word not in STOPWORDS and word not in seen:
            seen.append(word)
    return seen[:limit]


def phrases(text: str, limit: int = 12) -> list[str]:
    """Tags from a text: each run of two or three content words as a phrase ("acacia trees"), then its
    words, distinct, in order of first use. Stop-words and punctuation end a run."""
    found: list[str] = []
    for clause in re.split(r"[^a-z' -]+", text.lower()):
        run: list[str] = []
        for token in [*clause.split(), ""]:
            word = token.strip("'-")
            if word and WORD.fullmatch(word) and word not in STOPWORDS:
                run.append(word)
                continue
            if 2 <= len(run) <= 3:
                found.append(" ".join(run))
            found.extend(run)
            run = []
    return list(dict.fromkeys(found))[:limit]
