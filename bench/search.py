"""Search 100,000 library items with 1,000 text queries, through the production index code.

Items: 4,000 distinct synthetic photo and generated-image texts, written the way the local
analysis backend writes an item's search text (caption, description, tags), embedded with the real
MiniLM model (cached under var/bench/search after the first run); each of the 100,000 items is
one of them plus a little of another and some noise, so the vectors sit where real text embeddings
sit, with the near-duplicates a real library has. Index: `library.index.UserIndex` (the exact
FAISS flat index every search uses). Queries: 1,000 distinct short
phrases that paraphrase rather than copy the item texts, each embedded on its own inside the timed
section, then searched for the top 60 (what `library_search` asks for). Ground truth: numpy
brute force (one float32 matrix-vector product and a partial sort) over the same vectors.

Last line: search: items=100000 p50_ms=<x> p95_ms=<x> brute_ratio=<index / numpy> recall_at_20=<r>
p50/p95 are of embed + search per query; brute_ratio compares median search times only.
Targets: p95_ms <= 30, recall_at_20 >= 0.95 (and the run stays under 1 GB resident).
"""

import hashlib
import os
import re
import statistics
import sys
import time
from pathlib import Path

import django
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# library.index reads items through the ORM (the benchmark feeds it vectors directly, so no database
# is touched), and importing the models needs Django set up.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photoagent.settings.base")
django.setup()

from library.analysis import keywords  # noqa: E402 - after the path is set
from library.embeddings import DIMENSIONS, MODEL_SHA256, embed  # noqa: E402
from library.index import UserIndex  # noqa: E402

WORK = ROOT / "var" / "bench" / "search"
ITEMS = 100_000
TEXTS = 4_000
QUERIES = 1_000
LIMIT = 60  # library_search's default
K = 20
TARGET_P95_MS = 30
TARGET_RECALL = 0.95
TARGET_RSS_MB = 1024
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
PROJECTS = [
    ("Summer holiday", "travel"),
    ("Family", "people"),
    ("Wedding", "event"),
    ("Portfolio", "portrait"),
    ("Pets", "animal"),
    ("Food blog", "food"),
    ("Street photography", "street"),
    ("Fantasy art", "art"),
    ("Product shots", "product"),
    ("", ""),
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


def item_text(rng: np.random.Generator) -> str:
    """Caption, description and tags, joined as LibraryItem.search_text() joins the local backend's."""
    generated = rng.random() < 0.4
    subject = SUBJECTS[rng.integers(len(SUBJECTS))]
    if generated:
        subject = f"{STYLES[rng.integers(len(STYLES))]} {subject}"
    text = clean(f"{subject} {PLACES[rng.integers(len(PLACES))]} {TIMES[rng.integers(len(TIMES))]}")
    project, category = PROJECTS[rng.integers(len(PROJECTS))]
    orientation = ("landscape", "portrait", "square")[rng.integers(3)]
    colours = list(rng.choice(COLOURS, size=3, replace=False))
    what = "generated image" if generated else "photo"
    of = f" of {project}" if project else ""
    description = f"{text}. A {orientation} {what}{of}, in {', '.join(colours)} tones."
    tags = keywords(text)
    for extra in (category, "generated" if generated else "photo", orientation, *colours[:2]):
        if extra and extra not in tags:
            tags.append(extra)
    return ". ".join([text[:200], description, ", ".join(tags[:16])])


def distinct(make, count: int, rng: np.random.Generator) -> list[str]:
    found: dict[str, None] = {}
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


def build_items(bases: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each item: one text's vector, plus a quarter of another's, plus noise; unit length."""
    items = np.empty((ITEMS, DIMENSIONS), dtype=np.float32)
    for start in range(0, ITEMS, 10_000):
        stop = min(start + 10_000, ITEMS)
        size = stop - start
        main = bases[rng.integers(len(bases), size=size)]
        other = bases[rng.integers(len(bases), size=size)]
        noise = rng.normal(0, 0.3 / np.sqrt(DIMENSIONS), size=(size, DIMENSIONS)).astype(np.float32)
        chunk = main + 0.25 * other + noise
        items[start:stop] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return items


def brute_force(items: np.ndarray, vector: np.ndarray, limit: int) -> np.ndarray:
    scores = items @ vector
    top = np.argpartition(-scores, limit)[:limit]
    return top[np.argsort(-scores[top], kind="stable")]


def peak_rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def embed_texts(texts: list[str]) -> np.ndarray:
    """The texts' vectors, cached under var/bench/search: the run measures queries, not this."""
    digest = hashlib.sha256("\n".join([MODEL_SHA256, *texts]).encode()).hexdigest()[:16]
    cached = WORK / f"texts-{digest}.npy"
    if cached.exists():
        return np.load(cached)
    started = time.perf_counter()
    # Small batches: padding to the longest text slows big ones, and the runtime's memory grows with them.
    vectors = np.concatenate([embed(texts[start : start + 16]) for start in range(0, len(texts), 16)])
    print(f"embedded {len(texts)} item texts in {time.perf_counter() - started:.1f} s (cached for the next run)")
    WORK.mkdir(parents=True, exist_ok=True)
    np.save(cached, vectors)
    return vectors


def main() -> int:
    rng = np.random.default_rng(SEED)
    texts = distinct(item_text, TEXTS, rng)
    queries = distinct(query_text, QUERIES, rng)
    items = build_items(embed_texts(texts), rng)
    ids = np.arange(ITEMS, dtype=np.int64)  # row i is item id i
    started = time.perf_counter()
    user_index = UserIndex()
    user_index.upsert(ids, items)
    print(f"indexed {user_index.index.ntotal} items in {time.perf_counter() - started:.1f} s")

    warm = embed(["warm-up query"])[0]  # first-use costs are not per-query costs
    user_index.search(warm, LIMIT)
    brute_force(items, warm, LIMIT)

    # What a search request does, and nothing else between two requests.
    total_ms, search_ms, vectors, results = [], [], [], []
    for query in queries:
        began = time.perf_counter()
        vector = embed([query])[0]
        embedded = time.perf_counter()
        hits = user_index.search(vector, LIMIT)
        done = time.perf_counter()
        total_ms.append((done - began) * 1000)
        search_ms.append((done - embedded) * 1000)
        vectors.append(vector)
        results.append([item_id for item_id, _ in hits[:K]])

    brute_ms, recalls = [], []
    for vector, found in zip(vectors, results, strict=True):
        began = time.perf_counter()
        truth = brute_force(items, vector, LIMIT)
        brute_ms.append((time.perf_counter() - began) * 1000)
        recalls.append(len(set(found) & set(truth[:K].tolist())) / K)

    cuts = np.percentile(total_ms, [50, 95])
    embed_ms = [total - search for total, search in zip(total_ms, search_ms, strict=True)]
    ratio = statistics.median(search_ms) / statistics.median(brute_ms)
    recall = statistics.fmean(recalls)
    rss = peak_rss_mb()
    print(
        f"per query: embed median {statistics.median(embed_ms):.1f} ms, index search median "
        f"{statistics.median(search_ms):.1f} ms (p95 {np.percentile(search_ms, 95):.1f}), numpy brute force median "
        f"{statistics.median(brute_ms):.1f} ms; worst recall@{K} {min(recalls):.2f}; peak_rss_mb={rss:.0f}"
    )
    missed = []
    if cuts[1] > TARGET_P95_MS:
        missed.append(f"p95_ms={cuts[1]:.1f} (target <= {TARGET_P95_MS})")
    if recall < TARGET_RECALL:
        missed.append(f"recall_at_20={recall:.3f} (target >= {TARGET_RECALL})")
    if rss > TARGET_RSS_MB:
        missed.append(f"peak_rss_mb={rss:.0f} (target <= {TARGET_RSS_MB})")
    if missed:
        print("targets missed: " + ", ".join(missed))
    print(
        f"search: items={ITEMS} p50_ms={cuts[0]:.1f} p95_ms={cuts[1]:.1f} "
        f"brute_ratio={ratio:.2f} recall_at_20={recall:.3f}"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
