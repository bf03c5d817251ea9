"""Per-user vector indexes (FAISS) over the items' embeddings, kept in process memory.

Each user has their own index of the items they may see (library/visibility.py: their projects'
items, whoever made them, and their own base-model images), so a search can never return an item
of a project they are not a member of. An index is built from the database on first use and then
kept up to date incrementally: before each search, items embedded since the last sync are
(re)added, and a count check catches deletions (the ids the database no longer has are removed, the
ones it has and the index lacks are added). The projects the user is a member of are compared too:
joining or leaving one brings the index's ids to the database's at once, even when the count
happens to be unchanged. A shared project's items are in each member's index (memory grows with
members, not only items: the budget below holds). Vectors are unit length, so inner product is
cosine similarity.

Exact up to LIBRARY_INDEX_APPROXIMATE_ABOVE items (a flat index: recall 1.0), approximate above:
an inverted-file index (FAISS IndexIVFFlat) whose cells are k-means clusters of the user's own
vectors; a search visits the LIBRARY_INDEX_NPROBE cells nearest the query. IVF rather than HNSW,
by measurement (docs/architecture.md, make bench-search): at 1,000,000 items recall@20 0.99 in
2-3 ms a search; on the same vectors HNSW reached 0.91, built 3 times slower, and cannot remove.

An approximate index of a million items takes about two minutes to build, so it is built in a
background thread while the current index goes on answering. That index is frozen for the build
(the builder reads it); changes made meanwhile wait in a small exact index of upserts and a set of
removed ids, used by every search at once and replayed onto the new index when it is swapped in.

The indexes of one process share a byte budget (LIBRARY_INDEX_MEMORY_BUDGET_MB): the least
recently used users' indexes are dropped first and rebuilt from the database when next searched;
an index bigger than the whole budget is kept, alone.
"""

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import cast

import faiss
import numpy as np
from django.conf import settings

from library import embeddings
from library.embeddings import from_bytes
from library.visibility import items_visible_to, scope_key

logger = logging.getLogger(__name__)

# One thread, as for the embedding model: web and worker processes share two cores, and a one-query
# flat search is bound by memory bandwidth, so a second OpenMP thread gains nothing on a quiet
# machine and, when the other core is busy, makes each search wait for it (make bench-search with a
# busy core, one run: p50 31 ms, p95 43 ms with two threads; 15 ms and 25 ms with one). The
# background build runs on that one thread too, beside the requests.
faiss.omp_set_num_threads(1)

CHUNK = 50_000  # vectors per step of a build or a database sync
TRAINING_VECTORS = 65_536
# Bytes an index holds per vector beyond the vector itself: its id, and the id -> position map
# that lets it remove and update items (a hash node and bucket). make bench-search's index_memory
# line: 1,000 users' flat indexes grew resident memory by 1,030 MB where 1,023 MB were counted.
ID_OVERHEAD_BYTES = 48


def _flat(dimensions: int) -> faiss.IndexIDMap2:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimensions))


def _cells_for(items: int) -> int:
    """IVF cells for a library: a power of two near one per 256 items (4,096 at 1,000,000), so a
    search that visits a fixed number of cells reads about as many vectors at any size."""
    return max(1, int(2 ** round(np.log2(max(items, 1) / 256))))


def _stored(index: faiss.Index) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The (ids, vectors) an index holds, in chunks: views of its memory, valid while it is not changed."""
    if isinstance(index, faiss.IndexIDMap2):
        total, dimensions = index.ntotal, index.d
        if total == 0:
            return
        ids = faiss.rev_swig_ptr(index.id_map.data(), total)
        flat = cast(faiss.IndexFlat, faiss.downcast_index(index.index))
        vectors = faiss.rev_swig_ptr(flat.get_xb(), total * dimensions).reshape(total, dimensions)
        for start in range(0, total, CHUNK):
            yield ids[start : start + CHUNK], vectors[start : start + CHUNK]
    elif isinstance(index, faiss.IndexIVF) and index.invlists is not None:
        lists = index.invlists
        for cell in range(index.nlist):
            size = lists.list_size(cell)
            if size:
                ids = faiss.rev_swig_ptr(lists.get_ids(cell), size)
                codes = faiss.rev_swig_ptr(lists.get_codes(cell), size * index.code_size)
                yield ids, codes.view(np.float32).reshape(size, index.d)


def _stored_ids(index: faiss.Index) -> np.ndarray:
    chunks = [ids.copy() for ids, _ in _stored(index)]
    return np.sort(np.concatenate(chunks)) if chunks else np.zeros(0, dtype=np.int64)


def _nbytes(index: faiss.Index | None) -> int:
    if index is None:
        return 0
    total = index.ntotal * (4 * index.d + ID_OVERHEAD_BYTES)
    if isinstance(index, faiss.IndexIVF):
        total += index.nlist * 4 * index.d  # the cells' centroids
    return int(total)


def _approximate(source: faiss.Index, *, stopped: Callable[[], bool]) -> faiss.IndexIVF | None:
    """An IVF index of `source`'s vectors (read in place; `source` must not change meanwhile);
    None when `stopped()` turns true on the way (the index was evicted)."""
    items, dimensions = source.ntotal, source.d
    cells = _cells_for(items)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimensions), dimensions, cells, faiss.METRIC_INNER_PRODUCT)
    # k-means, 10 rounds, on 65,536 vectors (all of a smaller library), and at least 16 a cell. At
    # 200,000 items (1,024 cells, 24 visited) 64 a cell gave recall@20 0.977, 16 a cell 0.963; at
    # 1,000,000, 16 a cell give 0.99 in a minute and a half, and more would train for many minutes.
    points = min(items, max(16 * cells, TRAINING_VECTORS))
    index.cp.niter = 10
    index.cp.max_points_per_centroid = -(-points // cells)  # faiss would otherwise sample again
    index.cp.min_points_per_centroid = 1  # a small library trains on what it has, without a warning
    share = points / items
    rng = np.random.default_rng(items)
    sample = np.concatenate([vectors[rng.random(len(vectors)) < share] for _, vectors in _stored(source)])
    if stopped():
        return None
    index.train(sample)
    del sample
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]  # by id: remove_ids, updates
    for ids, vectors in _stored(source):
        if stopped():
            return None
        index.add_with_ids(np.ascontiguousarray(vectors), np.ascontiguousarray(ids))
    return index


def _visiting(cells: int) -> faiss.SearchParametersIVF:
    params = faiss.SearchParametersIVF()
    params.nprobe = cells
    return params


def _search(index: faiss.Index, query: np.ndarray, limit: int) -> list[tuple[int, float]]:
    limit = min(limit, index.ntotal)
    if limit <= 0:
        return []
    if isinstance(index, faiss.IndexIVF):
        probes = min(settings.LIBRARY_INDEX_NPROBE, index.nlist)
        scores, ids = index.search(query, limit, params=_visiting(probes))
        if ids[0][-1] < 0 and probes < index.nlist:
            # The nearest cells hold fewer than `limit` items (a deep search, under filters): visit all.
            scores, ids = index.search(query, limit, params=_visiting(index.nlist))
    else:
        scores, ids = index.search(query, limit)
    return [(int(item_id), float(score)) for item_id, score in zip(ids[0], scores[0], strict=True) if item_id >= 0]


class UserIndex:
    """One user's vectors: exact below the approximate threshold, approximate (IVF) above it."""

    def __init__(self, dimensions: int | None = None) -> None:
        self.dimensions = dimensions or embeddings.dimensions()
        self.synced_at: object = None  # the latest embedded_at seen
        self.scope_key: tuple[int, ...] | None = None  # the projects whose items it holds (visibility.scope_key)
        self.sync_lock = threading.Lock()  # one database sync at a time (index_for)
        self._lock = threading.Lock()  # guards everything below
        self._index: faiss.Index = _flat(self.dimensions)
        self._trained_on = 0  # items when the approximate index's cells were made
        # While a build reads the frozen index: upserts since (exact), and ids removed from the frozen one.
        self._builder: threading.Thread | None = None
        self._pending: faiss.IndexIDMap2 | None = None
        self._removed: set[int] = set()
        self._frozen_ids = np.zeros(0, dtype=np.int64)  # sorted
        self._build_failed = False
        self._closed = False

    def __len__(self) -> int:
        with self._lock:
            return self._count()

    def _count(self) -> int:
        pending = self._pending.ntotal if self._pending is not None else 0
        return int(self._index.ntotal) - len(self._removed) + int(pending)

    @property
    def approximate(self) -> bool:
        """Whether searches go through the approximate index (not while it is still being built)."""
        return isinstance(self._index, faiss.IndexIVF)

    @property
    def building(self) -> bool:
        return self._builder is not None

    @property
    def nbytes(self) -> int:
        """Memory the index holds (vectors, ids, centroids), and, during a build, what it builds."""
        with self._lock:
            total = _nbytes(self._index) + _nbytes(self._pending) + 16 * len(self._removed)
            if self._builder is not None:
                total += self._index.ntotal * (4 * self.dimensions + ID_OVERHEAD_BYTES)
            return total

    def ids(self) -> np.ndarray:
        """The ids the index holds, sorted."""
        with self._lock:
            if self._pending is None:
                return _stored_ids(self._index)
            frozen = self._frozen_ids[~np.isin(self._frozen_ids, list(self._removed))]
            return np.union1d(frozen, _stored_ids(self._pending))

    def upsert(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add items, or replace the vectors of items already in the index."""
        if not len(ids):
            return
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), self.dimensions)
        with self._lock:
            if self._pending is not None:
                self._remove_from_frozen(ids)
                self._pending.remove_ids(ids)  # type: ignore[arg-type]  # the wrapper takes an id array too
                self._pending.add_with_ids(vectors, ids)
            else:
                self._index.remove_ids(ids)  # type: ignore[arg-type]
                self._index.add_with_ids(vectors, ids)

    def remove(self, ids: np.ndarray) -> None:
        if not len(ids):
            return
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        with self._lock:
            if self._pending is not None:
                self._remove_from_frozen(ids)
                self._pending.remove_ids(ids)  # type: ignore[arg-type]
            else:
                self._index.remove_ids(ids)  # type: ignore[arg-type]

    def _remove_from_frozen(self, ids: np.ndarray) -> None:
        held = ids[np.isin(ids, self._frozen_ids)]
        self._removed.update(int(item_id) for item_id in held)

    def search(self, vector: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """The `limit` nearest items as (id, score), best first."""
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        with self._lock:
            if self._pending is None:
                return _search(self._index, query, limit)
            # Removed and updated items still sit in the frozen index: ask for that many more.
            frozen = _search(self._index, query, limit + len(self._removed))
            hits = [hit for hit in frozen if hit[0] not in self._removed] + _search(self._pending, query, limit)
        return sorted(hits, key=lambda hit: -hit[1])[:limit]

    def wait_for_build(self, timeout: float | None = None) -> bool:
        """Wait until no build is running (one may start another as it ends); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (builder := self._builder) is not None:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            builder.join(remaining)
        return True

    def close(self) -> None:
        """The index is dropped: a build in progress stops and is not swapped in."""
        with self._lock:
            self._closed = True

    def reshape(self) -> None:
        """After a batch of changes: switch to the kind of index the library's size asks for (an
        approximate one is built in the background; a search never waits for it)."""
        with self._lock:
            self._reshape()

    def _reshape(self) -> None:
        if self._builder is not None or self._closed:
            return
        items, threshold = self._count(), settings.LIBRARY_INDEX_APPROXIMATE_ABOVE
        if not self.approximate:
            if items > threshold and not self._build_failed:
                self._start_build()
        elif items <= threshold // 2:
            # Back to exact (with a margin, so a library at the threshold does not flip back and forth);
            # at that size copying the vectors takes milliseconds.
            flat = _flat(self.dimensions)
            for ids, vectors in _stored(self._index):
                flat.add_with_ids(np.ascontiguousarray(vectors), np.ascontiguousarray(ids))
            self._index, self._trained_on = flat, 0
        elif items > 4 * self._trained_on and not self._build_failed:
            # Four times the items the cells were made for: each cell is four times longer, and so
            # is every search. New cells, in the background as the first time.
            self._start_build()

    def _start_build(self) -> None:
        self._frozen_ids = _stored_ids(self._index)
        self._pending = _flat(self.dimensions)
        self._removed = set()
        self._builder = threading.Thread(target=self._build, name="library-index-build", daemon=True)
        self._builder.start()

    def _build(self) -> None:
        frozen = self._index  # nothing changes it until the swap below: changes go to _pending
        try:
            built = _approximate(frozen, stopped=lambda: self._closed)
        except Exception:
            # Say so and go on with the current index: searches stay right, only slower (exact) or
            # coarser (old cells); not tried again for this index.
            logger.exception("library index: building the approximate index of %s items failed", frozen.ntotal)
            built = None
            self._build_failed = True
        with self._lock:
            if self._closed:  # dropped from the cache meanwhile: nothing to swap into
                self._builder = None
                return
            target = built if built is not None else frozen
            if built is not None:
                self._trained_on = int(built.ntotal)
            target.remove_ids(np.array(sorted(self._removed), dtype=np.int64))  # type: ignore[arg-type]
            assert self._pending is not None  # noqa: S101 - set by _start_build, cleared only here
            for ids, vectors in _stored(self._pending):
                target.remove_ids(ids.copy())  # type: ignore[arg-type]
                target.add_with_ids(vectors.copy(), ids.copy())
            self._index, self._pending, self._removed = target, None, set()
            self._frozen_ids = np.zeros(0, dtype=np.int64)
            self._builder = None
            self._reshape()  # it may have grown past another step meanwhile


class IndexCache:
    """Users' indexes, least recently used first out, within a byte budget
    (LIBRARY_INDEX_MEMORY_BUDGET_MB unless given)."""

    def __init__(self, budget_bytes: int | None = None) -> None:
        self._budget_bytes = budget_bytes
        self._indexes: OrderedDict[int, UserIndex] = OrderedDict()
        # Each index's size when it was last fitted: only the index just synced changes (a finished
        # build only shrinks one), so a fit does not ask every index again.
        self._sizes: dict[int, int] = {}
        self._lock = threading.Lock()

    @property
    def budget_bytes(self) -> int:
        if self._budget_bytes is not None:
            return self._budget_bytes
        return int(settings.LIBRARY_INDEX_MEMORY_BUDGET_MB * 1024 * 1024)

    def user_ids(self) -> list[int]:
        """Least recently used first."""
        with self._lock:
            return list(self._indexes)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(user_index.nbytes for user_index in self._indexes.values())

    def get(self, user_id: int, make: Callable[[], UserIndex] = UserIndex) -> UserIndex:
        """The user's index (a new one if none is kept), now the most recently used."""
        with self._lock:
            user_index = self._indexes.get(user_id)
            if user_index is None:
                user_index = self._indexes[user_id] = make()
            self._indexes.move_to_end(user_id)
            return user_index

    def fit(self, changed: int | None = None) -> list[int]:
        """Drop the least recently used indexes until the rest fit the budget; the most recently
        used one stays even if it alone does not. `changed`: the one user whose index may have
        changed size (None: any). Returns the users dropped."""
        with self._lock:
            for user_id, user_index in self._indexes.items():
                if changed is None or user_id == changed or user_id not in self._sizes:
                    self._sizes[user_id] = user_index.nbytes
            total, dropped = sum(self._sizes.values()), []
            while total > self.budget_bytes and len(self._indexes) > 1:
                user_id, user_index = self._indexes.popitem(last=False)
                user_index.close()
                total -= self._sizes.pop(user_id)
                dropped.append(user_id)
            return dropped

    def forget(self, user_id: int | None = None) -> None:
        with self._lock:
            dropped = list(self._indexes) if user_id is None else [user_id]
            for each in dropped:
                user_index = self._indexes.pop(each, None)
                self._sizes.pop(each, None)
                if user_index is not None:
                    user_index.close()


_cache = IndexCache()


def _items(user_id: int):
    # Only the configured model's vectors: during a re-embed the others wait, never mixed in.
    return items_visible_to(user_id).filter(embedding__isnull=False, embedding_model=embeddings.model_id())


def _upsert_rows(user_index: UserIndex, rows) -> object:
    """Upsert (id, embedding, embedded_at) rows in chunks; the latest embedded_at among them."""
    latest = None
    ids: list[int] = []
    vectors: list[np.ndarray] = []
    for item_id, embedding, embedded_at in rows:
        ids.append(item_id)
        vectors.append(from_bytes(embedding))
        latest = embedded_at if latest is None or embedded_at > latest else latest
        if len(ids) == CHUNK:
            user_index.upsert(np.array(ids, dtype=np.int64), np.stack(vectors))
            ids, vectors = [], []
    if ids:
        user_index.upsert(np.array(ids, dtype=np.int64), np.stack(vectors))
    return latest


def _sync(user_id: int, user_index: UserIndex) -> None:
    with user_index.sync_lock:
        key = scope_key(user_id)
        # Joined or left a project since the last sync: its items, however old, come or go below.
        rescoped = user_index.scope_key is not None and key != user_index.scope_key
        user_index.scope_key = key
        changed = _items(user_id)
        if user_index.synced_at is not None:
            changed = changed.filter(embedded_at__gte=user_index.synced_at)  # upserts are idempotent
        latest = _upsert_rows(user_index, changed.values_list("id", "embedding", "embedded_at").iterator(2_000))
        if latest is not None:
            user_index.synced_at = latest
        if not rescoped and len(user_index) == _items(user_id).count():
            return
        # Items were deleted (or an embedding was committed after a later one had been synced):
        # bring the index's set of ids to the database's.
        present = np.fromiter(_items(user_id).values_list("id", flat=True).iterator(10_000), dtype=np.int64)
        held = user_index.ids()
        user_index.remove(np.setdiff1d(held, present))
        missing = np.setdiff1d(present, held).tolist()
        for start in range(0, len(missing), 10_000):
            rows = _items(user_id).filter(id__in=missing[start : start + 10_000])
            _upsert_rows(user_index, rows.values_list("id", "embedding", "embedded_at"))


def _dimensions_for(user_id: int) -> int:
    """The size of the user's stored vectors, else the model's: a remote model learns its size from
    an answer, and neither "Similar" nor the cache's lock may wait on a provider for it."""
    for stored in _items(user_id).values_list("embedding", flat=True)[:1]:
        return len(from_bytes(bytes(stored)))
    return embeddings.dimensions()


def index_for(user_id: int) -> UserIndex:
    """The user's index, synced with the database."""
    if user_id in _cache.user_ids():
        user_index = _cache.get(user_id)
    else:
        dimensions = _dimensions_for(user_id)
        user_index = _cache.get(user_id, make=lambda: UserIndex(dimensions))
    _sync(user_id, user_index)
    user_index.reshape()
    _cache.fit(changed=user_id)
    return user_index


def forget(user_id: int | None = None) -> None:
    """Drop cached indexes (all, or one user's); the next search rebuilds from the database."""
    _cache.forget(user_id)


def cached_users() -> list[int]:
    """The users whose indexes this process holds, least recently used first."""
    return _cache.user_ids()


def memory_bytes() -> int:
    """What this process's indexes hold, as counted against LIBRARY_INDEX_MEMORY_BUDGET_MB."""
    return _cache.nbytes
