"""Search by meaning and by exact words, "find similar", and the vectors the album suggestions cluster.

A search scores each candidate twice: by meaning (the cosine of the query's vector and the item's,
from the per-user vector index) and by words (library/ranking.py: the rarity-weighted share of the
query's words the item's own text holds). Its score is meaning + LIBRARY_KEYWORD_WEIGHT x words,
and results under LIBRARY_SEARCH_MIN_SCORE are left out; both values are calibrated on the labelled
set by `bench/relevance.py --calibrate`. Candidates are the vector index's best and the items
holding the query's words, so an item found by a rare word (a product code, a name, a file name)
is reached however far its meaning is.
"""

from dataclasses import dataclass
from typing import cast

import numpy as np
from django.conf import settings
from django.db.models import F
from django.utils.translation import gettext

from accounts.models import User
from library import embeddings, index, ranking
from library.models import LibraryItem
from library.selectors.items import item_list_for_user
from library.visibility import items_scope, items_visible_to
from projects.access import Can

# Items holding the query's words that are scored besides the vector index's best.
KEYWORD_CANDIDATES = 200


@dataclass(frozen=True)
class Hit:
    item: LibraryItem
    score: float
    matched: list[str]  # the query's words the item's own text holds, as typed

    @property
    def why(self) -> str:
        """Why it is in the results, as the page and the API say it, in the active language (the
        matched words are the query's own, as typed)."""
        if self.matched:
            return gettext("matched: %(words)s") % {"words": ", ".join(self.matched)}
        return gettext("similar meaning")


@dataclass(frozen=True)
class Candidate:
    """One item a query reached, with both halves of its score (before the cut-off)."""

    item: LibraryItem
    meaning: float
    words: float
    matched: list[str]

    def score(self, weight: float) -> float:
        return self.meaning + weight * self.words


def _clean(query: str) -> str:
    return " ".join(query.split())[:300]


def _cosines(user: User, vector: np.ndarray, item_ids: list[int]) -> dict[int, float]:
    """Meaning scores of items the vector search did not reach, from their stored vectors."""
    if not item_ids:
        return {}
    rows = (
        items_visible_to(user.id)
        .filter(id__in=item_ids, embedding__isnull=False, embedding_model=embeddings.model_id())
        .values_list("id", "embedding")
    )
    return {item_id: float(embeddings.from_bytes(cast(bytes, data)) @ vector) for item_id, data in rows}


def _candidates(
    user: User,
    *,
    vector: np.ndarray,
    ranked: list[tuple[int, float]],
    weights: ranking.Weights,
    terms: ranking.TermIndex,
    floor: float,
    filters: dict,
) -> tuple[list[Candidate], int]:
    """The scored candidates the filters keep, and how many of the vector index's the filters dropped:
    the vector index's at least `floor` in meaning, and the items the word map proposes."""
    reached = dict(ranked)
    meaning = {item_id: score for item_id, score in ranked if score >= floor}
    by_words = [item_id for item_id in terms.candidates(weights, KEYWORD_CANDIDATES) if item_id not in meaning]
    meaning.update({item_id: reached[item_id] for item_id in by_words if item_id in reached})
    meaning.update(_cosines(user, vector, [item_id for item_id in by_words if item_id not in reached]))
    items = (
        item_list_for_user(user=user, **filters)
        .filter(id__in=list(meaning))
        .annotate(prompt=F("generated_image__generation__prompt"))
    )
    found = []
    for item in items:
        match = weights.match(ranking.item_terms(item, prompt=item.prompt))
        found.append(Candidate(item=item, meaning=meaning[item.id], words=match.score, matched=match.words))
    kept = {candidate.item.id for candidate in found}
    dropped = sum(1 for item_id, score in ranked if score >= floor and item_id not in kept)
    return found, dropped


def _query_weights(user: User, query: str) -> tuple[ranking.TermIndex, ranking.Weights]:
    terms = ranking.terms_for(user.id)
    return terms, ranking.Weights(ranking.query_words(query, known=terms.knows), terms)


def library_search(*, user: User, query: str, limit: int = 60, **filters) -> list[Hit]:
    """Items ranked by meaning and exact words, best first, with their score and the words that
    matched; those under the cut-off are left out."""
    query = _clean(query)
    if not query:
        return []
    weight, minimum = settings.LIBRARY_KEYWORD_WEIGHT, settings.LIBRARY_SEARCH_MIN_SCORE
    vector = embeddings.embed_query(query)
    user_index = index.index_for(user.id)
    terms, weights = _query_weights(user, query)
    # Filters apply after ranking: look deeper when they may drop many results.
    depth = len(user_index) if any(filters.values()) else limit
    while True:
        ranked = user_index.search(vector, max(depth, limit))
        # An item holding none of the words needs the meaning alone; those holding some are the
        # word map's to propose (all but the words thousands of items hold, see library/ranking.py).
        candidates, dropped = _candidates(
            user, vector=vector, ranked=ranked, weights=weights, terms=terms, floor=minimum, filters=filters
        )
        hits = [
            Hit(item=candidate.item, score=round(candidate.score(weight), 3), matched=candidate.matched)
            for candidate in candidates
            if candidate.score(weight) >= minimum
        ]
        # The trash or the filters dropped some of the best, and more are left to look at.
        if not (dropped and len(hits) < limit and len(user_index) > len(ranked)):
            break
        depth = len(user_index)
    hits.sort(key=lambda hit: (-hit.score, -hit.item.id))
    return hits[:limit]


def search_candidates(*, user: User, query: str) -> list[Candidate]:
    """Every indexed item of the user, with both halves of its score for the query and no cut-off:
    what the calibration (bench/relevance.py --calibrate) sweeps the weight and the cut-off over."""
    query = _clean(query)
    vector = embeddings.embed_query(query)
    user_index = index.index_for(user.id)
    terms, weights = _query_weights(user, query)
    ranked = user_index.search(vector, len(user_index))
    candidates, _dropped = _candidates(
        user, vector=vector, ranked=ranked, weights=weights, terms=terms, floor=-1.0, filters={}
    )
    return candidates


def library_similar(*, item: LibraryItem, user: User | None = None, limit: int = 24) -> list[Hit]:
    """The items the user (the item's maker unless given) may see closest in meaning to this one,
    at least LIBRARY_SIMILAR_MIN_SCORE alike."""
    if item.embedding is None or item.embedding_model != embeddings.model_id():
        return []
    user = user or item.user
    minimum = settings.LIBRARY_SIMILAR_MIN_SCORE
    user_index = index.index_for(user.id)
    vector = embeddings.from_bytes(bytes(item.embedding))
    depth = limit + 1
    while True:
        ranked = [(item_id, score) for item_id, score in user_index.search(vector, depth) if item_id != item.id]
        scores = {item_id: score for item_id, score in ranked if score >= minimum}
        items = item_list_for_user(user=user).filter(id__in=list(scores))
        hits = [Hit(item=other, score=round(scores[other.id], 3), matched=[]) for other in items]
        # The trash dropped some that were alike enough, and more are left to look at.
        if not (len(hits) < min(len(scores), limit) and len(user_index) > depth):
            break
        depth = len(user_index)
    hits.sort(key=lambda hit: (-hit.score, -hit.item.id))
    return hits[:limit]


def library_vectors(*, user: User) -> tuple[list[int], np.ndarray]:
    """The vectors of the items the user may put in albums (their own base-model images, and the
    items of projects where they may edit): what the album suggestions cluster."""
    rows = list(
        LibraryItem.objects.filter(
            items_scope(user=user, capability=Can.EDIT), embedding__isnull=False, embedding_model=embeddings.model_id()
        )
        .outside_trash()
        .order_by("id")
        .values_list("id", "embedding")
    )
    if not rows:
        return [], np.zeros((0, embeddings.dimensions()), dtype=np.float32)
    return [row[0] for row in rows], np.stack([embeddings.from_bytes(row[1]) for row in rows])
