"""Search a library index through the production code (library.index): 100,000 and 1,000,000 items,
and the memory of 1,000 users' indexes under the budget.

Vectors. 4,000 distinct synthetic photo and generated-image documents, written the way the local
analysis writes an item (its description as caption, phrases and facts as tags), embedded as items
are (library.embeddings.embed_documents: the whole text plus the mean of its phrases), cached under
var/bench/search after the first run. Each item is one of them plus a random share (0-0.5) of
another plus noise, unit length: the items sit in clusters around real text embeddings, with the
near-duplicates a real library has (uniform noise would make every neighbour equally far, and
recall meaningless). Made in float32 chunks of 50,000; the million-item run holds them twice (the
index, and an exact flat index to compare with) and peaks near 8 GB while the index is built.

Queries. 1,000 distinct short phrases that paraphrase rather than copy the documents, each embedded
on its own (embed_query) inside the timed section, then searched for the top 60 (what
library_search asks for). p50/p95 are of embed + search; recall@20 is against an exact answer.

Lines (one per run; the million-item run also says how searches fared during its build):
  index_memory: users=1000 items_per_user=<n> budget_mb=<b> rss_mb=<resident growth> counted_mb=<x> ...
  search: items=100000 p50_ms=<x> p95_ms=<x> brute_ratio=<index / numpy search time> recall_at_20=<r>
  search: items=1000000 p95_ms=<x> recall_at_20=<r> flat_ratio=<approximate / exact flat search time>
Targets: 100,000: p95_ms <= 30; 1,000,000: p95_ms <= 10; recall_at_20 >= 0.95; the indexes' counted
bytes within the budget, and resident memory within it by 10%. BENCH_SEARCH_RUNS=memory,100k,1m
picks runs.
"""

import hashlib
import os
import re
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import django
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# library.index reads items through the ORM (the benchmark feeds it vectors directly, so no database
# is touched), and importing the models needs Django set up.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photoagent.settings.base")
django.setup()

import faiss  # noqa: E402 - after the path is set
from django.conf import settings  # noqa: E402

from library import embeddings, index  # noqa: E402
from library.analysis import phrases  # noqa: E402

WORK = ROOT / "var" / "bench" / "search"
TEXTS = 4_000
QUERIES = 1_000
LIMIT = 60  # library_search's default
K = 20
CHUNK = 50_000
TARGET_RECALL = 0.95
SEED = 20240611

SUBJECTS = [
    "a golden retriever",
    "a tabby cat asleep",
    "two children laughing",
    "an old man with a cane",
    "a bride and groom",
    "a red vintage car",
    "a bicycle leaning on a wall",
    "a sailboat",
    "a steam train",
    "a bowl of ramen",
    "a birthday cake with candles",
    "a cup of espresso",
    "a lighthouse",
    "a wooden cabin",
    "a ruined castle",
    "a glass skyscraper",
    "a field of sunflowers",
    "a waterfall",
    "a snowy mountain peak",
    "a white horse",
    "a flock of sheep",
    "a surfer riding a wave",
    "a skateboarder mid-jump",
    "a street musician with a guitar",
    "a woman reading a book",
    "a toddler in a yellow raincoat",
    "a portrait of a young woman",
    "a chess board",
    "a market stall full of fruit",
    "a stone bridge",
    "a hot air balloon",
    "a barn owl",
    "a monarch butterfly",
    "a red fox",
    "a deer in the grass",
    "a kayak",
    "a tent",
    "a campfire",
    "a dinner table set for friends",
    "a neon sign",
    "fireworks",
    "a dragon",
    "an astronaut",
    "a friendly robot",
    "a knight in armour",
    "a plate of pancakes",
    "a vase of tulips",
    "a motorcycle",
    "a cathedral",
    "a pair of running shoes",
    "a fisherman mending nets",
    "a baby sleeping",
    "a family picnic",
    "a yoga class",
    "a jazz band on stage",
    "a pizza fresh from the oven",
    "a tractor",
    "a penguin colony",
    "an elephant",
    "a city skyline",
]
PLACES = [
    "on a sandy beach",
    "in a pine forest",
    "in a busy city street",
    "in a kitchen",
    "in a park",
    "by a mountain lake",
    "on a hiking trail",
    "in the desert",
    "in a flower garden",
    "on a rooftop",
    "at a train station",
    "in a living room",
    "in a small cafe",
    "at the harbour",
    "in a snowy village",
    "on a farm",
    "in a museum",
    "under a bridge",
    "in a field of wheat",
    "on a tropical island",
    "in a studio",
    "on a country road",
    "",
]
TIMES = [
    "at sunset",
    "at night",
    "in the morning fog",
    "on a rainy afternoon",
    "under a clear blue sky",
    "during a snowstorm",
    "at golden hour",
    "in autumn",
    "in spring",
    "at dawn",
    "in harsh midday sun",
    "",
]
STYLES = [
    "a watercolour painting of",
    "an oil painting of",
    "a cinematic still of",
    "a 35mm film photo of",
    "a pencil sketch of",
    "digital art of",
    "a black and white photograph of",
    "a studio shot of",
]
COLOURS = "black white grey red orange yellow green teal blue navy purple pink brown beige".split()

# Query words: other words for the same things, as people type them.
QUERY_SUBJECTS = [
    "dog",
    "puppy",
    "kitten",
    "kids playing",
    "grandpa",
    "wedding couple",
    "classic car",
    "bike",
    "boat",
    "train",
    "noodle soup",
    "cake",
    "coffee",
    "lighthouse",
    "log cabin",
    "castle",
    "tall building",
    "sunflowers",
    "cascade",
    "mountains with snow",
    "horse",
    "sheep",
    "surfing",
    "skateboarding",
    "busker",
    "someone reading",
    "little child in the rain",
    "woman portrait",
    "chess",
    "fruit stand",
    "old bridge",
    "balloon flight",
    "owl",
    "butterfly",
    "fox",
    "deer",
    "canoe",
    "camping",
    "bonfire",
    "dinner party",
    "glowing signs",
    "fireworks show",
    "dragon",
    "space suit",
    "robot",
    "medieval warrior",
    "breakfast pancakes",
    "flowers in a vase",
    "motorbike",
    "church",
    "sneakers",
    "fisherman",
    "newborn",
    "picnic",
    "yoga",
    "live music",
    "pizza",
    "farm machinery",
    "penguins",
    "elephant",
    "skyline",
]
QUERY_PLACES = [
    "at the seaside",
    "in the woods",
    "downtown",
    "at home",
    "outdoors",
    "near a lake",
    "in the mountains",
    "in the sand dunes",
    "in the garden",
    "in the city",
    "on the farm",
    "by the sea",
    "indoors",
    "in the countryside",
    "",
]
QUERY_TIMES = ["in the evening", "after dark", "on a foggy morning", "in the rain", "in winter", "at sunrise", ""]
QUERY_FORMS = [
    "{subject} {place} {time}",
    "{colour} {subject}",
    "photos of {subject} {time}",
    "{subject} painted in watercolour",
    "{subject} {place}",
    "black and white {subject}",
    "my {subject} pictures {place}",
]


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def item_document(rng: np.random.Generator) -> embeddings.Document:
    """An item as the local analysis describes it: the user's words, then colours and facts as tags."""
    generated = rng.random() < 0.4
    subject = SUBJECTS[rng.integers(len(SUBJECTS))]
    if generated:
        subject = f"{STYLES[rng.integers(len(STYLES))]} {subject}"
    text = clean(f"{subject} {PLACES[rng.integers(len(PLACES))]} {TIMES[rng.integers(len(TIMES))]}")
    orientation = ("landscape", "portrait", "square")[rng.integers(3)]
    colours = [str(colour) for colour in rng.choice(COLOURS, size=3, replace=False)]
    tags = list(dict.fromkeys([*phrases(text), "generated" if generated else "photo", orientation, *colours]))[:16]
    description = f"{text} Colours: {', '.join(colours)}."
    return embeddings.Document(text=". ".join([text, description, ", ".join(tags)]), phrases=(text, *tags))


def distinct(make, count: int, rng: np.random.Generator) -> list:
    found: dict = {}
    while len(found) < count:
        found[make(rng)] = None
    return list(found)


def query_text(rng: np.random.Generator) -> str:
    form = QUERY_FORMS[rng.integers(len(QUERY_FORMS))]
    return clean(
        form.format(
            subject=QUERY_SUBJECTS[rng.integers(len(QUERY_SUBJECTS))],
            place=QUERY_PLACES[rng.integers(len(QUERY_PLACES))],
            time=QUERY_TIMES[rng.integers(len(QUERY_TIMES))],
            colour=COLOURS[rng.integers(len(COLOURS))],
        )
    )


def embed_documents(documents: list[embeddings.Document]) -> np.ndarray:
    """The documents' vectors, cached under var/bench/search: the runs measure queries, not this."""
    key = "\n".join([embeddings.model_id(), *(f"{doc.text}|{'|'.join(doc.phrases)}" for doc in documents)])
    cached = WORK / f"documents-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npy"
    if cached.exists():
        return np.load(cached)
    started = time.perf_counter()
    vectors = np.concatenate(
        [embeddings.embed_documents(documents[start : start + 16]) for start in range(0, len(documents), 16)]
    )
    print(f"embedded {len(documents)} documents in {time.perf_counter() - started:.1f} s (cached for the next run)")
    WORK.mkdir(parents=True, exist_ok=True)
    np.save(cached, vectors)
    return vectors


def item_chunks(bases: np.ndarray, count: int, rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, unit vectors) in chunks: one document's vector, plus a share of another's, plus noise."""
    dimensions = bases.shape[1]
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        main = bases[rng.integers(len(bases), size=size)]
        other = bases[rng.integers(len(bases), size=size)]
        share = rng.uniform(0, 0.5, size=(size, 1)).astype(np.float32)
        noise = rng.standard_normal(size=(size, dimensions), dtype=np.float32) * np.float32(0.3 / np.sqrt(dimensions))
        chunk = main + share * other + noise
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        yield np.arange(start, start + size, dtype=np.int64), chunk


def brute_force(items: np.ndarray, vector: np.ndarray, limit: int) -> np.ndarray:
    scores = items @ vector
    top = np.argpartition(-scores, limit)[:limit]
    return top[np.argsort(-scores[top], kind="stable")]


def rss_mb(field: str = "VmRSS") -> float:
    """Resident memory now (VmRSS) or at its peak (VmHWM)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+) kB", status).group(1)) / 1024


def ask(search, queries: list[str]) -> tuple[list[float], list[float], np.ndarray, list[list[int]]]:
    """What a search request does, and nothing else between two requests: embed, then search.
    Returns the total and the search-only times (ms), the query vectors and the top-K ids."""
    search(embeddings.embed_query("warm-up query"), LIMIT)  # first-use costs are not per-query costs
    total_ms, search_ms, vectors, results = [], [], [], []
    for query in queries:
        began = time.perf_counter()
        vector = embeddings.embed_query(query)
        embedded = time.perf_counter()
        hits = search(vector, LIMIT)
        done = time.perf_counter()
        total_ms.append((done - began) * 1000)
        search_ms.append((done - embedded) * 1000)
        vectors.append(vector)
        results.append([item_id for item_id, _ in hits[:K]])
    return total_ms, search_ms, np.stack(vectors), results


def describe(label: str, total_ms: list[float], search_ms: list[float]) -> None:
    embed_ms = [total - search for total, search in zip(total_ms, search_ms, strict=True)]
    print(
        f"{label}: embed median {statistics.median(embed_ms):.1f} ms (p95 {np.percentile(embed_ms, 95):.1f}), "
        f"index search median {statistics.median(search_ms):.2f} ms (p95 {np.percentile(search_ms, 95):.2f})"
    )


def load(user_index: index.UserIndex, chunks, queries: Sequence[str] = ()) -> float:
    """Loads the chunks as a sync does, then waits for the index the size asks for; seconds taken.
    With queries: they are searched while the build runs, and how long they took is printed."""
    started = time.perf_counter()
    for ids, vectors in chunks:
        user_index.upsert(ids, vectors)
    user_index.reshape()
    during = []
    for query in queries:
        vector = embeddings.embed_query(query)
        began = time.perf_counter()
        user_index.search(vector, LIMIT)
        during.append((time.perf_counter() - began) * 1000)
    if during:
        print(
            f"during the build: {len(during)} searches answered (building: {user_index.building}), "
            f"median {statistics.median(during):.0f} ms, slowest {max(during):.0f} ms"
        )
    user_index.wait_for_build()
    return time.perf_counter() - started


def run_100k(bases: np.ndarray, queries: list[str], rng: np.random.Generator) -> list[str]:
    items = np.concatenate([vectors for _, vectors in item_chunks(bases, 100_000, rng)])
    user_index = index.UserIndex(bases.shape[1])
    seconds = load(
        user_index,
        ((np.arange(start, start + CHUNK), items[start : start + CHUNK]) for start in range(0, len(items), CHUNK)),
    )
    kind = "approximate" if user_index.approximate else "exact"
    print(f"100,000 items: {kind} index built in {seconds:.1f} s")
    total_ms, search_ms, vectors, results = ask(user_index.search, queries)
    brute_ms, recalls = [], []
    for vector, found in zip(vectors, results, strict=True):
        began = time.perf_counter()
        truth = brute_force(items, vector, LIMIT)
        brute_ms.append((time.perf_counter() - began) * 1000)
        recalls.append(len(set(found) & set(truth[:K].tolist())) / K)
    describe("100,000 items", total_ms, search_ms)
    p50, p95 = np.percentile(total_ms, [50, 95])
    recall = statistics.fmean(recalls)
    print(
        f"search: items=100000 p50_ms={p50:.1f} p95_ms={p95:.1f} "
        f"brute_ratio={statistics.median(search_ms) / statistics.median(brute_ms):.2f} recall_at_20={recall:.3f}"
    )
    missed = [f"p95_ms={p95:.1f} (target <= 30)"] if p95 > 30 else []
    return missed + ([f"recall_at_20={recall:.3f} at 100,000"] if recall < TARGET_RECALL else [])


def run_1m(bases: np.ndarray, queries: list[str], rng: np.random.Generator) -> list[str]:
    dimensions = bases.shape[1]
    exact = faiss.IndexFlatIP(dimensions)  # the exact answer, and the flat index's time to compare with
    user_index = index.UserIndex(dimensions)

    def chunks():
        for ids, vectors in item_chunks(bases, 1_000_000, rng):
            exact.add(vectors)
            yield ids, vectors

    seconds = load(user_index, chunks(), queries[:20])
    kind = "approximate" if user_index.approximate else "exact"
    print(
        f"1,000,000 items: {kind} index built in {seconds:.0f} s (loading included); peak_rss_mb={rss_mb('VmHWM'):.0f}"
    )
    total_ms, search_ms, vectors, results = ask(user_index.search, queries)
    # The exact answers in one batch (a matrix product), the flat index's time one query at a time.
    _, truth = exact.search(vectors, K)
    recalls = [len(set(found) & set(row.tolist())) / K for found, row in zip(results, truth, strict=True)]
    flat_ms = []
    for vector in vectors[:100]:
        began = time.perf_counter()
        exact.search(vector.reshape(1, -1), LIMIT)
        flat_ms.append((time.perf_counter() - began) * 1000)
    describe("1,000,000 items", total_ms, search_ms)
    print(f"1,000,000 items: exact flat search median {statistics.median(flat_ms):.0f} ms (100 queries)")
    p95 = float(np.percentile(total_ms, 95))
    recall = statistics.fmean(recalls)
    print(
        f"search: items=1000000 p95_ms={p95:.1f} recall_at_20={recall:.3f} "
        f"flat_ratio={statistics.median(search_ms) / statistics.median(flat_ms):.3f}"
    )
    missed = [f"p95_ms={p95:.1f} at 1,000,000 (target <= 10)"] if p95 > 10 else []
    return missed + ([f"recall_at_20={recall:.3f} at 1,000,000"] if recall < TARGET_RECALL else [])


def run_memory(bases: np.ndarray, rng: np.random.Generator) -> list[str]:
    """1,000 users' libraries loaded one after another into one process's cache, as index_for does
    (without the database): resident memory grows to the budget, not to all the libraries."""
    users, per_user = 1_000, 1_000
    budget_mb = settings.LIBRARY_INDEX_MEMORY_BUDGET_MB
    cache = index.IndexCache()
    dimensions = bases.shape[1]
    before = rss_mb()
    most = 0
    for user_id, (ids, vectors) in enumerate(item_chunks_per_user(bases, users, per_user, rng)):
        user_index = cache.get(user_id, make=lambda: index.UserIndex(dimensions))
        user_index.upsert(ids, vectors)
        user_index.reshape()
        cache.fit(changed=user_id)
        most = max(most, cache.nbytes)
    grown = rss_mb() - before
    kept = len(cache.user_ids())
    print(
        f"index_memory: users={users} items_per_user={per_user} budget_mb={budget_mb:g} rss_mb={grown:.0f} "
        f"counted_mb={most / 2**20:.0f} users_kept={kept} all_mb={users * per_user * 4 * dimensions / 2**20:.0f}"
    )
    cache.forget()
    missed = [f"counted_mb={most / 2**20:.0f} over the budget"] if most > budget_mb * 2**20 else []
    return missed + ([f"rss_mb={grown:.0f} over the budget by more than 10%"] if grown > 1.1 * budget_mb else [])


def item_chunks_per_user(bases, users: int, per_user: int, rng) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Each user's library in turn: per_user items, ids unique across users as in the database."""
    for ids, vectors in item_chunks(bases, users * per_user, rng):
        for start in range(0, len(ids), per_user):
            yield ids[start : start + per_user], vectors[start : start + per_user].copy()


def main() -> int:
    runs = os.environ.get("BENCH_SEARCH_RUNS", "memory,100k,1m").split(",")
    started = time.perf_counter()
    rng = np.random.default_rng(SEED)
    documents = distinct(item_document, TEXTS, rng)
    queries = distinct(query_text, QUERIES, rng)
    bases = embed_documents(documents)
    embeddings.preload()
    print(
        f"settings: approximate above {settings.LIBRARY_INDEX_APPROXIMATE_ABOVE} items, "
        f"nprobe {settings.LIBRARY_INDEX_NPROBE}, budget {settings.LIBRARY_INDEX_MEMORY_BUDGET_MB:g} MB"
    )
    missed: list[str] = []
    # Memory first: the resident size it measures is not yet inflated by the big runs' freed memory.
    if "memory" in runs:
        missed += run_memory(bases, rng)
    if "100k" in runs:
        missed += run_100k(bases, queries, rng)
    if "1m" in runs:
        missed += run_1m(bases, queries, rng)
    print(f"bench-search took {time.perf_counter() - started:.0f} s")
    if missed:
        print("targets missed: " + ", ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
