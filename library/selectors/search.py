"""Search by meaning, "find similar", and the vectors the album suggestions cluster."""

import re
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from accounts.models import User
from library import analysis, embeddings, index
from library.models import LibraryItem
from library.selectors.items import item_list_for_user


@dataclass(frozen=True)
class Hit:
    item: LibraryItem
    score: float
    matched: list[str]


def _matched_words(query: str, item: LibraryItem) -> list[str]:
    """The query's words found in the item's caption, description or tags ("why it matched")."""
    text = item.search_text().lower()
    found = []
    for word in analysis.keywords(query, limit=20):
        stem = word[:-1] if word.endswith("s") and len(word) > 4 else word
        if re.search(rf"\b{re.escape(stem)}", text):
            found.append(word)
    return found


def _hits(user: User, ranked: list[tuple[int, float]], *, filters: dict, exclude: int | None = None) -> list[Hit]:
    minimum = settings.LIBRARY_SEARCH_MIN_SCORE
    scores = {item_id: score for item_id, score in ranked if score >= minimum and item_id != exclude}
    items = item_list_for_user(user=user, **filters).filter(id__in=list(scores))
    return sorted(
        (Hit(item=item, score=round(scores[item.id], 3), matched=[]) for item in items),
        key=lambda hit: (-hit.score, -hit.item.id),
    )


def _ranked_hits(
    user: User,
    user_index: index.UserIndex,
    vector: np.ndarray,
    *,
    depth: int,
    limit: int,
    filters: dict,
    exclude: int | None = None,
) -> list[Hit]:
    """The best `limit` hits. Filters and the trash apply after ranking, so when they dropped
    candidates that scored high enough and the index holds more, it is searched to the end."""
    minimum = settings.LIBRARY_SEARCH_MIN_SCORE
    ranked = user_index.search(vector, depth)
    hits = _hits(user, ranked, filters=filters, exclude=exclude)
    candidates = sum(1 for item_id, score in ranked if score >= minimum and item_id != exclude)
    dropped = candidates > len(hits)
    if dropped and len(hits) < limit and len(user_index) > len(ranked):
        hits = _hits(user, user_index.search(vector, len(user_index)), filters=filters, exclude=exclude)
    return hits[:limit]


def library_search(*, user: User, query: str, limit: int = 60, **filters) -> list[Hit]:
    """Items ranked by meaning, with a relevance score, a cut-off and the words that matched."""
    query = " ".join(query.split())[:300]
    if not query:
        return []
    vector = embeddings.embed_query(query)
    user_index = index.index_for(user.id)
    # Filters apply after ranking: look deeper when they may drop many results.
    depth = len(user_index) if any(filters.values()) else limit
    hits = _ranked_hits(user, user_index, vector, depth=max(depth, limit), limit=limit, filters=filters)
    return [Hit(item=hit.item, score=hit.score, matched=_matched_words(query, hit.item)) for hit in hits]


def library_similar(*, item: LibraryItem, limit: int = 24) -> list[Hit]:
    if item.embedding is None or item.embedding_model != embeddings.model_id():
        return []
    user_index = index.index_for(item.user_id)
    vector = embeddings.from_bytes(bytes(item.embedding))
    return _ranked_hits(item.user, user_index, vector, depth=limit + 1, limit=limit, filters={}, exclude=item.id)


def library_vectors(*, user: User) -> tuple[list[int], np.ndarray]:
    rows = list(
        LibraryItem.objects.filter(user=user, embedding__isnull=False, embedding_model=embeddings.model_id())
        .outside_trash()
        .order_by("id")
        .values_list("id", "embedding")
    )
    if not rows:
        return [], np.zeros((0, embeddings.dimensions()), dtype=np.float32)
    return [row[0] for row in rows], np.stack([embeddings.from_bytes(row[1]) for row in rows])
