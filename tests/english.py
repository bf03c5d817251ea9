"""Finds English left on a page that should be in another language (the Spanish journey's pages).

The text is cut into chunks (lines, sentences, and the pieces between separators such as " · ",
" — " or ": "). Before a chunk is judged, what is the same in every language is taken out: what the
user typed (their project name, photo descriptions, prompt: pass it as `user_data`), email
addresses, URLs, file names, numbers, the product's and providers' names (PhotoAgent, LoRA,
FLUX.1-dev, Replicate, Hugging Face… as in `core.i18n.NOT_TRANSLATED`) and the languages' own
names in the switcher ("English", "Español"…). A chunk is English when one of these holds:

1. it holds two or more different English function words ("the", "your", "to", "is"…). The list
   leaves out the words the shipped languages use too: "no", "me", "has" (Spanish), "in", "an",
   "so", "was", "will", "also" (German), "on", "a", "as" (French);
2. it has two or more words, none of them known only from the other languages' catalogs, and
   py3langid (offline, a small model bundled in the package) says English with a probability of at
   least `LANGID_CONFIDENCE` (short French such as "Plus anciens" fools it otherwise);
3. it is, word for word, a piece of one of the app's English msgids that the target language's
   catalog does not translate to the same words ("Settings", "Generate images"): this catches the
   short labels the first two rules cannot judge, and a lazy string evaluated too early;
4. it has two or more words that appear only in English interface text (the msgids of Django's
   and the app's catalogs, never in a Spanish, German or French translation of them), and no
   word of the other languages.

Rules 3 and 4 take the app's catalogs from `core.i18n` and Django's from its own locale files, so
they grow with every string the app marks and every translation it ships.
"""

from __future__ import annotations

import functools
import gettext
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

LANGID_CONFIDENCE = 0.9
# The languages whose words keep a word from being "English only" (rule 4).
OTHER_LANGUAGES = ("es", "de", "fr")

# English words that carry no meaning of their own and that Spanish, German and French do not use.
FUNCTION_WORDS = frozenset(
    """
    the your yours you you're you'll you've and to of is isn't are aren't with without for this that these
    those not yet here there there's it it's its be been being were had have haven't can cannot can't from
    by at or our ours we we're we'll us my they them their when what which who whom whose how why if then
    than into onto about after before any each every more most some only just still already now does doesn't
    don't do did didn't would should could might must again please until while within
    """.split()
)

# Said the same way in every language; longest first so "FLUX.1-dev" goes before "FLUX".
PHRASES = ("Hugging Face", "FLUX.1-dev", "FLUX.1", "FLUX", "PhotoAgent", "SendGrid", "Replicate", "LoRAs", "LoRA")

WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
URL = re.compile(r"\b(?:https?://|www\.)\S+|(?<![\w/])/[\w./?=&%#-]*[\w/]")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
FILE_NAME = re.compile(
    r"\b[\w.-]+\.(?:jpe?g|png|webp|heic|heif|gif|tiff?|avif|safetensors|zip|tar|json|csv|txt|pdf)\b", re.IGNORECASE
)
# Numbers with their units and separators: "15 / 15", "1200×1100", "0,50 €", "4.2 MB", "#12", "3 %".
NUMBER = re.compile(r"[#№]?\d[\d.,:'’ ×x/%-]*\d?%?")
# Money as a locale writes it: "US$", "$", "€", "USD" ("0,00 US$" must not read as the word "us").
CURRENCY = re.compile(r"\b[A-Z]{0,3}[$€£¥]|[$€£¥]|\b(?:USD|EUR|GBP|CHF|CAD|AUD)\b")
# A token of code: a secret, a key, an id ("pat_…", "photo-3-description", "abc123def").
CODE = re.compile(r"\b\w*(?:_\w*|\d[a-zA-Z]\w*|[a-zA-Z]\d\w*)\b")
# Where a text is cut into chunks: line ends, sentence ends, separators, a colon before a value.
CUT = re.compile(r"\s*\n\s*|(?<=[.!?…])\s+|\s+[·•|—–]\s+|\s*[·•|]\s*|:\s+")
HTML_TAG = re.compile(r"<[^>]+>")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")
EDGE = " \t\n.,:;!?…\"“”„'‘’«»()[]{}·•|—–-★☆✓✕✗→←*"
# What the user typed, while a text is judged: "\ue000<n>\ue000", n its index (a private-use character).
USER_DATUM = re.compile("\ue000(\\d+)\ue000")


def _normal(text: str) -> str:
    """A chunk as matched against the catalogs: spaces collapsed, edge punctuation off, case folded."""
    return " ".join(text.replace("’", "'").split()).strip(EDGE).casefold()


def _words(text: str) -> list[str]:
    return [word.replace("’", "'").casefold() for word in WORD.findall(text) if len(word) >= 2]


def chunks(text: str) -> list[str]:
    """The pieces of a text the detector judges one by one."""
    return [piece.strip() for piece in CUT.split(text or "") if piece and piece.strip()]


@functools.cache
def _same_everywhere() -> frozenset[str]:
    """Words that no language translates: names of the product, providers, formats and languages."""
    from django.conf import settings
    from django.conf.locale import LANG_INFO

    from core.i18n import NOT_TRANSLATED

    names = set(NOT_TRANSLATED)
    for code, name in settings.LANGUAGES:
        info = LANG_INFO.get(code, {})
        names.update([str(name), info.get("name", ""), info.get("name_local", "")])
    return frozenset(word for name in names for word in _words(name))


@functools.cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)


def langid_english(text: str) -> float:
    """How sure py3langid is that the text is English (0 when it says another language)."""
    language, probability = _identifier().classify(text)
    return float(probability) if language == "en" else 0.0


# --- the catalogs: what the app and Django say in English, and what the other languages say ---------


@dataclass(frozen=True)
class Vocabulary:
    """English pieces and words of interface text, and the words the other languages use."""

    pieces: frozenset[str] = frozenset()  # normalised pieces of English msgids (rule 3)
    patterns: tuple[re.Pattern, ...] = ()  # the pieces with a placeholder, as patterns (rule 3)
    english_words: frozenset[str] = frozenset()  # in English msgids, in no translation (rule 4)
    other_words: frozenset[str] = frozenset()  # in a translation, in no English msgid (rule 4)

    @classmethod
    def build(
        cls,
        app_english: Iterable[str],
        translations: Iterable[str] = (),
        more_english: Iterable[str] = (),
        other: Iterable[str] = (),
    ) -> Vocabulary:
        """From the app's English msgids, every translation into the target language (the app's and
        Django's), more English interface text (Django's msgids) and text in the other languages."""

        def plain(texts: Iterable[str]) -> list[str]:
            return [HTML_TAG.sub("", text) for text in texts if text]

        app_english, translations, more_english, other = map(plain, (app_english, translations, more_english, other))
        translated_pieces = {_normal(piece) for text in translations for piece in chunks(text)}
        same = _same_everywhere()
        pieces, patterns = set(), []
        for text in app_english:
            for piece in chunks(text):
                own = [word for word in _words(PLACEHOLDER.sub(" ", piece)) if word not in same]
                if not own or (PLACEHOLDER.search(piece) and len(own) < 2):
                    continue  # "%(name)s (%(word)s)", "%(n)s min": too little English of its own
                normal = _normal(piece)
                if normal in translated_pieces:
                    continue  # "Prompt", "Album", "No": the target language says it the same way
                if PLACEHOLDER.search(normal):
                    patterns.append(re.compile(_pattern(normal)))
                else:
                    pieces.add(normal)

        def words_of(texts: list[str]) -> set[str]:
            return {word for text in texts for word in _words(PLACEHOLDER.sub(" ", text))}

        english_words = words_of(app_english + more_english)
        foreign_words = words_of(translations + other)
        return cls(
            pieces=frozenset(pieces),
            patterns=tuple(patterns),
            english_words=frozenset(english_words - foreign_words - same),
            other_words=frozenset(foreign_words - english_words),
        )

    def is_piece(self, normal: str) -> bool:
        return normal in self.pieces or any(pattern.fullmatch(normal) for pattern in self.patterns)


def _pattern(piece: str) -> str:
    """A msgid piece with placeholders as a pattern: a value where it stands alone, a plural ending
    where it follows a letter ("image%(s)s")."""
    pattern, at = "", 0
    for match in PLACEHOLDER.finditer(piece):
        pattern += re.escape(piece[at : match.start()])
        pattern += "(?:s|es)?" if match.start() and piece[match.start() - 1].isalpha() else ".+?"
        at = match.end()
    return pattern + re.escape(piece[at:])


def _entries(catalog) -> Iterable[tuple[str, str]]:
    """(English, translation) pairs of a babel catalog, plural forms included."""
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        for index, english in enumerate(ids):
            translated = strings[min(index, len(strings) - 1)] if strings else ""
            yield english, translated or ""


def _mo_texts(language: str) -> tuple[list[str], list[str]]:
    """Django's own English msgids and their translations into `language` (admin, auth, forms…)."""
    import django

    english, translated = [], []
    for path in sorted(Path(django.__file__).parent.rglob(f"locale/{language}/LC_MESSAGES/*.mo")):
        with path.open("rb") as handle:
            catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
        for key, value in catalog.items():
            if not key:
                continue
            ids = key[0] if isinstance(key, tuple) else key
            english.extend(part.split("\x04")[-1] for part in ids.split("\x00"))
            translated.extend(value.split("\x00"))
    return english, translated


@functools.cache
def app_vocabulary(language: str) -> Vocabulary:
    """The app's English msgids (templates, code and scripts, as `update_translations` extracts them),
    their translations into `language`, and Django's catalogs and the other shipped languages' words."""
    from babel.messages.pofile import read_po

    from core import i18n

    app_english: list[str] = []
    for domain in i18n.DOMAINS:
        app_english.extend(text for text, _ in _entries(i18n.extract_catalog(domain)))
    # Sentences of the templates not marked yet (`check_translations` fails on them): English too.
    templates = i18n.base_dir() / i18n.TEMPLATE_ROOT
    for path in sorted(templates.rglob("*.htm*")):
        if not path.relative_to(i18n.base_dir()).as_posix().startswith(i18n.OPERATOR_TEMPLATES):
            sentences = i18n.unmarked_sentences(path.read_text("utf-8"))
            # "…" stands for a variable there: keep the words, not the piece.
            app_english.extend(sentence.replace("…", "%(value)s") for sentence in sentences)
    translations: list[str] = []
    more_english: list[str] = []
    other: list[str] = []
    for code in sorted({language, *OTHER_LANGUAGES, *i18n.shipped_languages()}):
        texts = []
        for domain in i18n.DOMAINS:
            path = i18n.catalog_path(code, domain)
            if path.exists():
                with path.open("rb") as handle:
                    texts.extend(text for _, text in _entries(read_po(handle, locale=code)))
        django_english, django_translated = _mo_texts(code)
        more_english.extend(django_english)
        (translations if code == language else other).extend([*texts, *django_translated])
    return Vocabulary.build(app_english, translations, more_english, other)


# --- the detector ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class English:
    """An English chunk: as shown (user data put back) and the rule that caught it."""

    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.text!r} ({self.why})"


@dataclass
class EnglishDetector:
    """Finds the English chunks of texts in a page that should be in another language."""

    user_data: Iterable[str] = ()
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    confidence: float = LANGID_CONFIDENCE

    def __post_init__(self):
        # Longest first, so a prompt is taken out whole before a shorter typed value inside it.
        self._user_data = sorted({text.strip() for text in self.user_data if text and text.strip()}, key=len)[::-1]

    def find(self, text: str) -> list[English]:
        """The English chunks of `text`."""
        hidden: list[str] = []

        def hide(match: re.Match) -> str:
            hidden.append(match.group(0))
            return f"\ue000{len(hidden) - 1}\ue000"

        masked = text or ""
        for datum in self._user_data:
            masked = re.sub(re.escape(datum), hide, masked, flags=re.IGNORECASE)
        found = []
        for chunk in chunks(masked):
            why = self.why_english(chunk)
            if why:
                found.append(English(USER_DATUM.sub(lambda match: hidden[int(match[1])], chunk), why))
        return found

    def why_english(self, chunk: str) -> str:
        """Which rule finds the chunk English, or "" when none does."""
        stripped = USER_DATUM.sub(" … ", chunk)
        for pattern in (URL, EMAIL, FILE_NAME, CURRENCY):
            stripped = pattern.sub(" ", stripped)
        for phrase in PHRASES:
            stripped = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", " ", stripped, flags=re.IGNORECASE)
        stripped = NUMBER.sub(" ", CODE.sub(" ", stripped))
        same = _same_everywhere()
        shown = [word for word in WORD.findall(stripped) if len(word) >= 2 and _words(word)[0] not in same]
        words = [_words(word)[0] for word in shown]
        if not words:
            return ""
        function_words = sorted(set(words) & FUNCTION_WORDS)
        if len(function_words) >= 2:
            return f"English words: {', '.join(function_words)}"
        foreign = [word for word in words if word in self.vocabulary.other_words]
        if len(words) >= 2 and not foreign:
            probability = langid_english(" ".join(shown))
            if probability >= self.confidence:
                return f"py3langid: English, {probability:.2f}"
        if self.vocabulary.is_piece(_normal(" ".join(stripped.split()))) or self.vocabulary.is_piece(_normal(chunk)):
            return "an English msgid of the app"
        english_only = [word for word in words if word in self.vocabulary.english_words]
        if len(english_only) >= 2 and not foreign:
            return f"English-only words: {', '.join(english_only)}"
        return ""


def english_in(texts: Iterable[str], detector: EnglishDetector) -> list[English]:
    """The English chunks of several texts (a page's text and attributes), each once, in order."""
    seen: dict[str, English] = {}
    for text in texts:
        for english in detector.find(text):
            seen.setdefault(english.text, english)
    return list(seen.values())
