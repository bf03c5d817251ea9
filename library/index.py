"""Per-user vector indexes (FAISS) over the items' embeddings, kept in process memory.

Each user has their own index, so a search can never return another user's items. An index is
built from the database on first use and then kept up to date incrementally: before each search,
items embedded since the last sync are (re)added, and a count check catches deletions (the index
is then rebuilt). Vectors are unit length, so inner product is cosine similarity; the flat index is
exact (recall 1.0) and fast enough for libraries of 100,000 items (see `make bench-search`).
"""

import threading
from dataclasses import dataclass, field

import faiss
import numpy as np

from library import embeddings
from library.embeddings import from_bytes
from library.models import LibraryItem

# One thread, as for the embedding model: web and worker processes share two cores, and a one-query
# flat search is bound by memory bandwidth, so a second OpenMP thread gains nothing on a quiet
# machine and, when the other core is busy, makes each search wait for it (make bench-search with a
# busy core, one run: p50 31 ms, p95 43 ms with two threads; 15 ms and 25 ms with one).
faiss.omp_set_num_threads(1)

_indexes: dict[int, "UserIndex"] = {}
_lock = threading.Lock()


@dataclass
class UserIndex:
    index: faiss.IndexIDMap2 = field(
        default_factory=lambda: faiss.IndexIDMap2(faiss.IndexFlatIP(embeddings.dimensions()))
    )
    synced_at: object = None  # the latest embedded_at seen
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def upsert(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.remove_ids(ids.astype(np.int64))  # type: ignore[arg-type]  # the wrapper takes an id array too
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))

    def search(self, vector: np.ndarray, limit: int) -> list[tuple[int, float]]:
        if self.index.ntotal == 0:
            return []
        scores, ids = self.index.search(np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32), limit)
        return [(int(item_id), float(score)) for item_id, score in zip(ids[0], scores[0], strict=True) if item_id >= 0]


def _items(user_id: int):
    # Only the configured model's vectors: during a re-embed the others wait, never mixed in.
    return LibraryItem.objects.filter(
        user_id=user_id, embedding__isnull=False, embedding_model=embeddings.model_id()
    )


def index_for(user_id: int) -> UserIndex:
    """The user's index, synced with the database."""
    with _lock:
        user_index = _indexes.setdefault(user_id, UserIndex())
    with user_index.lock:
        changed = _items(user_id)
        if user_index.synced_at is not None:
            changed = changed.filter(embedded_at__gte=user_index.synced_at)  # upserts are idempotent
        rows = list(changed.values_list("id", "embedding", "embedded_at"))
        if rows:
            ids = np.array([row[0] for row in rows], dtype=np.int64)
            vectors = np.stack([from_bytes(row[1]) for row in rows])
            user_index.upsert(ids, vectors)
            user_index.synced_at = max(row[2] for row in rows)
        if user_index.index.ntotal != _items(user_id).count():
            # Items were deleted since: start again from the database.
            with _lock:
                _indexes.pop(user_id, None)
            return index_for(user_id)
    return user_index


def forget(user_id: int | None = None) -> None:
    """Drop cached indexes (all, or one user's); the next search rebuilds from the database."""
    with _lock:
        if user_id is None:
            _indexes.clear()
        else:
            _indexes.pop(user_id, None)
