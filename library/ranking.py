"""The keyword half of search: a query's exact words found in an item's own text.

An item's words are its caption, description and tags, plus the name its photo was uploaded under
or the prompt its image was generated from; never its project's name or the training run's trigger
word (those are filters and tokens, not what the picture shows). Words are compared after light
normalisation (case, accents, a plural "s"), and a code or file name is one word as well as its
parts: "TX-200" matches "tx-200", "TX200" and "tx 200", "IMG_4411" matches "img_4411.jpg".

The score is the share of the query's words found, each weighted by how rare it is in the user's
library (BM25's idf) and cubed: a rare exact word ("TX-200", a name, a file name) counts for
more than a common one, and all of a query's words for much more than some. Search adds it to the
meaning score (library/selectors/search.py).

Each process keeps a per-user map from a word to the items holding it, built from the database on
first use and synced like the vector index (library/index.py): items re-embedded since the last sync
are added, and a count check catches deletions. It only proposes candidates; every candidate's
score is computed again from its current text, so an entry left behind by an edit costs a wasted
candidate, never a wrong result.
"""

import math
import re
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath

from django.conf import settings

from library import analysis, embeddings
from library.models import LibraryItem
from library.visibility import items_visible_to, scope_key

# A word, a code or a file name: letters and digits joined by hyphens, underscores or apostrophes.
TOKEN = re.compile(r"[^\W_]+(?:['’_-][^\W_]+)*")
JOINERS = re.compile(r"['’_-]")
# Function words of the other languages search is tested in (es, de, fr): a query "perro en la
# playa" must not match an English text's "la" or a place called "Picos de Europa" by its "de".
FOREIGN_STOPWORDS = set(
    "el la los las lo un una unos unas del al y o u en con sin por para que se su sus es son "
    "der die das den dem des ein eine einer eines einem einen und oder im am auf mit von zu zum zur "
    "für über unter ist sind le les une du au aux et ou dans sur sous avec pour par est sont "
    "de di da do".split()
)
# Words held by more items than this propose no candidates of their own (they still score).
CANDIDATE_SCAN_MAX = 5000
FILE_EXTENSIONS = {"jpg", "jpeg", "png", "webp", "heic", "heif", "tif", "tiff", "gif"}


def normalise(word: str) -> str:
    """Lower case, Latin accents dropped ("café" -> "cafe"), a plural "s" dropped ("cups" -> "cup")."""
    word = word.casefold()
    decomposed = unicodedata.normalize("NFKD", word)
    if all(ord(char) < 0x250 or unicodedata.combining(char) for char in decomposed):
        # Latin only: in kana or Devanagari the marks are letters of their own.
        word = "".join(char for char in decomposed if not unicodedata.combining(char))
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _is_stopword(raw: str, term: str) -> bool:
    if term.isdigit():
        return False
    return (
        len(term) < 2
        or raw in analysis.STOPWORDS
        or term in analysis.STOPWORDS
        or raw in FOREIGN_STOPWORDS
        or term in FILE_EXTENSIONS
    )


def _pieces(token: str) -> tuple[str, list[str]]:
    """A token's joined form and its parts: "TX-200" -> ("tx200", ["tx", "200"])."""
    token = re.sub(r"['’]s$", "", token.casefold())  # a possessive: "Gogh's" is "Gogh"
    parts = [part for part in JOINERS.split(token) if part]
    return "".join(parts), parts


def text_terms(text: str) -> set[str]:
    """The normalised words of a text, each code or compound also as its parts."""
    found: set[str] = set()
    for token in TOKEN.findall(text):
        joined, parts = _pieces(token)
        for raw in {joined, *parts}:
            term = normalise(raw)
            if not _is_stopword(raw, term):
                found.add(term)
    return found


@dataclass(frozen=True)
class QueryWord:
    typed: str  # as the user wrote it, lower case: what "why it matched" shows
    terms: tuple[str, ...]  # one term, or a compound's parts when the library does not know it whole


def query_words(query: str, known=lambda term: True) -> list[QueryWord]:
    """The query's content words, in order, once each. A compound of words ("blue-green") is one
    word when `known` says the library has it whole, otherwise its parts; a code ("TX-200",
    "IMG_4411") is always whole: "TX-300" must not match "TX-200" by its "TX"."""
    words: dict[str, QueryWord] = {}
    for token in TOKEN.findall(query):
        joined, parts = _pieces(token)
        term = normalise(joined)
        if len(parts) > 1 and not known(term) and not any(char.isdigit() for char in joined):
            candidates = [(part, normalise(part)) for part in parts]
            terms = tuple(dict.fromkeys(t for raw, t in candidates if not _is_stopword(raw, t)))
        else:
            terms = () if _is_stopword(joined, term) else (term,)
        if terms and token.casefold() not in words:
            words[token.casefold()] = QueryWord(typed=token.casefold(), terms=terms)
    return list(words.values())


def keyword_text(*, caption: str, description: str, tags: list[str], file_name: str | None, prompt: str | None) -> str:
    """Everything of an item that keyword search reads (never its project's name)."""
    parts = [caption, description, " ".join(tags or [])]
    if file_name:
        parts.append(PurePosixPath(file_name).stem)
    if prompt:
        parts.append(prompt)
    return "\n".join(part for part in parts if part)


def item_terms(item: LibraryItem, *, prompt: str | None = None) -> set[str]:
    """The words of one item (photo and project selected with it; a generated image's prompt given)."""
    photo = item.photo if item.kind == LibraryItem.Kind.PHOTO else None
    text = keyword_text(
        caption=item.caption,
        description=item.description,
        tags=item.tags,
        file_name=photo.original_filename if photo is not None else None,
        prompt=prompt,
    )
    trigger_word = item.project.trigger_word if item.project is not None else ""
    return _without_trigger_word(text_terms(text), trigger_word)


def _without_trigger_word(terms: set[str], trigger_word: str | None) -> set[str]:
    return terms - {normalise(trigger_word)} if trigger_word else terms


@dataclass(frozen=True)
class Match:
    score: float  # 0-1: the idf-weighted share of the query's words the item holds
    words: list[str]  # the query's words it holds, as typed


class Weights:
    """Each query word's weight (idf) in one user's library."""

    def __init__(self, words: list[QueryWord], terms: "TermIndex"):
        self.words = words
        self.idf = {term: terms.idf(term) for word in words for term in word.terms}
        self.total = sum(self._weight(word) for word in words)

    def _weight(self, word: QueryWord) -> float:
        return max(self.idf[term] for term in word.terms)

    def match(self, held: set[str]) -> Match:
        if not self.total:
            return Match(0.0, [])
        found, weight = [], 0.0
        for word in self.words:
            shared = [term for term in word.terms if term in held]
            if shared:
                found.append(word.typed)
                # A compound's parts each carry their share: "blue-green" half-matches "blue".
                weight += self._weight(word) * len(shared) / len(word.terms)
        # Cubed: all of the query's words found is strong evidence, some of them weak ("flower art"
        # and a latte's art, "street art" and a car parked in a street): a half counts an eighth.
        return Match((weight / self.total) ** 3, found)


@dataclass
class TermIndex:
    """One user's map from a word to the items whose text holds it (item ids, in sync order): the
    items the user may see, as their vector index (library/index.py)."""

    postings: dict[str, list[int]] = field(default_factory=dict)
    items: set[int] = field(default_factory=set)
    entries: int = 0  # postings in all, for size() without walking a dict another thread may grow
    synced_at: datetime | None = None
    scope_key: tuple[int, ...] | None = None  # the projects whose items it holds (visibility.scope_key)
    # Items added again since the map was built (edited): their old words linger until a rebuild.
    readded: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, item_id: int, terms: set[str]) -> None:
        again = item_id in self.items
        self.readded += again
        self.items.add(item_id)
        for term in terms:
            ids = self.postings.setdefault(term, [])
            if not (again and item_id in ids):  # the scan only for an edited item: rare
                ids.append(item_id)
                self.entries += 1

    def knows(self, term: str) -> bool:
        return term in self.postings

    def idf(self, term: str) -> float:
        """BM25's idf: rare words weigh more; a word no item holds weighs most."""
        held = len(self.postings.get(term, ()))
        count = len(self.items)
        return math.log(1 + (count - held + 0.5) / (held + 0.5))

    def candidates(self, weights: Weights, limit: int) -> list[int]:
        """Up to `limit` items holding any of the query's words, those holding the most (by weight) first."""
        scores: dict[int, float] = {}
        for word in weights.words:
            for term in word.terms:
                ids = self.postings.get(term, ())
                if len(ids) > CANDIDATE_SCAN_MAX:
                    continue  # a common word: the items it would add are the vector index's to find
                share = weights.idf[term] / len(word.terms)
                for item_id in ids:
                    scores[item_id] = scores.get(item_id, 0.0) + share
        return sorted(scores, key=lambda item_id: (-scores[item_id], -item_id))[:limit]

    def size(self) -> int:
        """Roughly the bytes it holds: a pointer per posting, a small string per word."""
        return 8 * self.entries + 80 * len(self.postings) + 40 * len(self.items)


_maps: "OrderedDict[int, TermIndex]" = OrderedDict()
_lock = threading.Lock()


def _indexed(user_id: int):
    # The items the vector index holds (library/index.py): a hybrid score needs both halves.
    return items_visible_to(user_id).filter(embedding__isnull=False, embedding_model=embeddings.model_id())


def _sync(user_id: int, terms: TermIndex) -> bool:
    """Add what changed since the last sync; False when the map must be rebuilt."""
    key = scope_key(user_id)
    if terms.scope_key is not None and key != terms.scope_key:
        return False  # joined or left a project: rebuilt from the items now visible
    terms.scope_key = key
    changed = _indexed(user_id)
    if terms.synced_at is not None:
        changed = changed.filter(embedded_at__gte=terms.synced_at)  # adding again is harmless
    rows = changed.values_list(
        "id",
        "kind",
        "caption",
        "description",
        "tags",
        "photo__original_filename",
        "generated_image__generation__prompt",
        "project__trigger_word",
        "embedded_at",
    )
    for item_id, kind, caption, description, tags, file_name, prompt, trigger_word, embedded_at in rows:
        text = keyword_text(
            caption=caption,
            description=description,
            tags=tags,
            file_name=file_name if kind == LibraryItem.Kind.PHOTO else None,
            prompt=prompt if kind == LibraryItem.Kind.GENERATED else None,
        )
        terms.add(item_id, _without_trigger_word(text_terms(text), trigger_word))
        terms.synced_at = max(terms.synced_at or embedded_at, embedded_at)
    if len(terms.items) != _indexed(user_id).count():
        return False  # items were deleted since
    return terms.readded <= max(100, len(terms.items) // 5)


def _cached(user_id: int) -> TermIndex:
    with _lock:
        terms = _maps.get(user_id)
        if terms is None:
            terms = _maps[user_id] = TermIndex()
        _maps.move_to_end(user_id)
        return terms


def terms_for(user_id: int) -> TermIndex:
    """The user's word map, synced with the database; the least recently used maps are dropped
    when all of them hold more than LIBRARY_KEYWORD_MEMORY_MB."""
    terms = _cached(user_id)
    with terms.lock:
        current = _sync(user_id, terms)
    if not current:
        with _lock:
            if _maps.get(user_id) is terms:
                del _maps[user_id]
        terms = _cached(user_id)
        with terms.lock:
            _sync(user_id, terms)
    _evict(keep=user_id)
    return terms


def _evict(*, keep: int) -> None:
    budget = settings.LIBRARY_KEYWORD_MEMORY_MB * 1024 * 1024
    with _lock:
        sizes = {user_id: terms.size() for user_id, terms in _maps.items()}
        total = sum(sizes.values())
        for user_id in list(_maps):
            if total <= budget:
                break
            if user_id != keep:
                total -= sizes[user_id]
                del _maps[user_id]


def forget(user_id: int | None = None) -> None:
    """Drop cached word maps (all, or one user's); the next search rebuilds from the database."""
    with _lock:
        if user_id is None:
            _maps.clear()
        else:
            _maps.pop(user_id, None)
