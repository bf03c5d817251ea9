"""Which language a prompt is written in, without the network: py3langid's naive Bayes model
(pinned in requirements.txt, loaded once per process), restricted to the languages people write
prompts in, and guarded for the short, name-filled English prompts it would otherwise misread.

English is the answer whenever the text does not clearly say otherwise: an English prompt sent
through a translation loses nothing, but FLUX.1-dev reads an untranslated one badly, so the guards
only err the other way for text too short to tell ("portrait of TOK", "golden hour", "Art Nouveau
poster"): those are sent as typed.
"""

import re
import threading

from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]  # ships no type information

ENGLISH = "en"
# The languages a prompt is told apart among (py3langid knows 97; fewer means fewer confusions).
CANDIDATES = (
    "en", "es", "de", "fr", "it", "pt", "nl", "ca", "pl", "cs", "ro", "hu", "sv", "da", "nb", "fi",
    "tr", "vi", "id", "ru", "uk", "el", "he", "ar", "hi", "zh", "ja", "ko",
)  # fmt: skip
# Words that mark a language in a prompt: articles and prepositions. The English ones are never
# words of the other candidates' prompts; the others are never English prompt words.
ENGLISH_WORDS = frozenset(
    "the of with and a on at by for from under over near into onto behind through wearing holding "
    "is are his her their its this that".split()
)
OTHER_WORDS = {
    "es": "el los las una unos unas del con y sobre para junto al en de la lo un por".split(),
    "de": "der die das ein eine einem einer eines und mit im am auf von vor bei zum zur dem des".split(),
    "fr": "le la les un une des du de et avec sur dans au aux en à".split(),
    "it": "il lo gli una di del della delle con e su sulla nel nella al alla".split(),
    "pt": "o os as um uma de do da dos das em no na com e numa num ao à".split(),
}
FOREIGN_WORDS = frozenset(word for words in OTHER_WORDS.values() for word in words)
# The words of keyword-style English prompts ("dog running beach sunset golden light") that no
# Spanish, German or French prompt uses: py3langid reads such word lists badly (often as German or
# Italian), so a text mostly made of them is English whatever the model says.
PROMPT_ENGLISH_WORDS = frozenset(
    """
    light lighting sunlight sunset sunrise golden hour soft hard cold dark bright moody shadow
    shadows glow glowing night day morning evening rain rainy snow snowy fog foggy misty cloudy sky
    clouds beach sea ocean lake river mountain mountains forest woods tree trees pine field meadow
    desert city street road bridge house room kitchen window garden flowers flower sunflowers leaves
    grass dog dogs cat cats horse bird birds fox running walking sitting standing eating drinking
    smiling laughing sleeping dancing flying woman women men girl boy child children people old
    young happy sad eyes hair red blue green yellow black white gray grey pink purple brown silver
    wooden glass stone oil painting painted drawing watercolor watercolour impressionist realistic
    photorealistic cinematic shot close closeup wide lens blurred blur background foreground depth
    focus sharp detailed highly high quality drops dew spider web cup coffee bottle photograph
    photography product render dramatic epic futuristic ancient castle down view overhead aerial
    beautiful pretty cute little big small tiny huge sun
    """.split()
)
# Without an article or preposition of another language, py3langid is trusted from this many words
# on, and only when it gives English at most ENGLISH_DOUBT ("perro corriendo playa atardecer").
MIN_WORDS = 4
ENGLISH_DOUBT = 0.01
# ... and its best guess at least this ("Art Nouveau" is French to it).
CONFIDENT = 0.9
# A text at least this share of PROMPT_ENGLISH_WORDS (or English articles) is English.
ENGLISH_SHARE = 0.5
# The interface language (the prior) is chosen when py3langid gives it at least this share of its
# best guess's probability, and more than English.
PRIOR_RATIO = 0.5
# A text mostly in a non-Latin script (Chinese, Japanese, Cyrillic...) is never English.
NON_LATIN_SHARE = 0.3

WORD = re.compile(r"[^\W\d_]+")
LATIN_LETTER = re.compile(r"[A-Za-z\u00C0-\u024F\u1E00-\u1EFF]")

_identifier: LanguageIdentifier | None = None
_lock = threading.Lock()


def _model() -> LanguageIdentifier:
    global _identifier
    with _lock:
        if _identifier is None:
            identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(CANDIDATES))
            _identifier = identifier
    return _identifier


def _ranked(text: str) -> list[tuple[str, float]]:
    return [(language, float(probability)) for language, probability in _model().rank(text)]


def detect_language(text: str, *, prior: str | None = None) -> str:
    """The ISO 639-1 code of the language `text` is written in; "en" when it is English or too
    short or mixed to tell. Pass the text without the parts that are kept as typed (the trigger
    word, quotations), and as `prior` the language the user reads the site in: a terse prompt
    ("Hund rennt Strand Sonnenuntergang") is taken to be in it when py3langid ranks it close to the
    top, since people mostly write in the language of their interface."""
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return ENGLISH
    non_latin = sum(1 for char in letters if not LATIN_LETTER.match(char))
    if non_latin >= 2 and non_latin / len(letters) >= NON_LATIN_SHARE:
        return next((language for language, _ in _ranked(text) if language != ENGLISH), ENGLISH)
    words = [word.lower() for word in WORD.findall(text)]
    english = sum(1 for word in words if word in ENGLISH_WORDS)
    foreign = sum(1 for word in words if word in FOREIGN_WORDS)
    prompt_english = sum(1 for word in words if word in ENGLISH_WORDS or word in PROMPT_ENGLISH_WORDS)
    if prompt_english / len(words) >= ENGLISH_SHARE and english >= foreign:
        return ENGLISH
    ranked = _ranked(text)
    probabilities = dict(ranked)
    top, top_probability = ranked[0]
    prior = prior if prior in probabilities and prior != ENGLISH else None
    if not foreign:
        if english or len(words) < MIN_WORDS:
            return ENGLISH
        if (
            prior
            and probabilities[prior] >= PRIOR_RATIO * top_probability
            and probabilities[prior] > probabilities[ENGLISH]
        ):
            return prior
        if probabilities[ENGLISH] > ENGLISH_DOUBT or top_probability < CONFIDENT:
            return ENGLISH
        return top
    if english > foreign or top == ENGLISH:
        return ENGLISH
    # The model's best guess among the languages whose words the text has, when it is unsure;
    # the interface language first.
    marked = {language for language, vocabulary in OTHER_WORDS.items() if set(words) & set(vocabulary)}
    if (
        prior
        and (prior in marked or prior not in OTHER_WORDS)
        and probabilities[prior] >= PRIOR_RATIO * top_probability
    ):
        return prior
    top, probability = next((language, p) for language, p in ranked if language != ENGLISH)
    if probability < 0.5 and marked and top not in marked:
        return next((language for language, _ in ranked if language in marked), top)
    return top
