"""The labelled relevance set (bench/relevance/) is whole: what `make bench-relevance` scores, not the scores.

Every query's relevant ids name items of the set, every photo has its committed copy, its line in
LICENSES.md and a file name as a camera would give it, and the set meets issue 15's minimums: 60
items (photos and generated images), 150 queries, five languages besides English, 30 queries that
should find nothing, and 15 English queries for rare exact words (codes, names, file names).
"""

import json
from collections import Counter
from pathlib import Path

from PIL import Image

from library import ranking

SET = Path(__file__).resolve().parents[2] / "bench" / "relevance"
ITEMS = json.loads((SET / "items.json").read_text())["items"]
QUERIES = json.loads((SET / "queries.json").read_text())["queries"]
OTHER_LANGUAGES = {"es", "de", "fr", "zh", "ja"}


def test_items_are_unique_photos_and_generated_images_with_their_text():
    ids = [item["id"] for item in ITEMS]
    assert len(ids) == len(set(ids))
    kinds = Counter(item["kind"] for item in ITEMS)
    assert set(kinds) == {"photo", "generated"}
    assert len(ITEMS) >= 60
    assert kinds["generated"] >= 10
    for item in ITEMS:
        text = item["description"] if item["kind"] == "photo" else item["prompt"]
        assert len(text.split()) >= 3, item["id"]
        assert len(text) <= 500, item["id"]  # Photo.description's limit


def test_every_photo_has_a_small_committed_copy_and_its_licence():
    photos = [item for item in ITEMS if item["kind"] == "photo"]
    licences = (SET / "LICENSES.md").read_text()
    per_project = Counter(item["project"] for item in photos)
    assert max(per_project.values()) <= 15  # PROJECT_PHOTOS_MAX: the bench uploads them per project
    total = 0
    for item in photos:
        path = SET / item["file"]
        with Image.open(path) as img:
            assert img.format == "JPEG", item["id"]
            assert max(img.size) <= 320, item["id"]
        total += path.stat().st_size
        source = item["source"]
        assert all(source[key] for key in ("package", "path", "author", "licence")), item["id"]
        assert f"| {item['file']} | {source['package']} | {source['path']} |" in licences, item["id"]
    assert total < 2_000_000
    committed = {path.name for path in (SET / "photos").iterdir()}
    assert committed == {Path(item["file"]).name for item in photos}


def test_queries_name_existing_items_and_meet_the_minimums():
    ids = {item["id"] for item in ITEMS}
    texts = [query["query"] for query in QUERIES]
    assert len(texts) == len(set(texts))
    assert len(QUERIES) >= 150
    for query in QUERIES:
        assert query["query"], query
        assert query["query"].strip() == query["query"], query
        assert set(query["relevant"]) <= ids, query["query"]
        assert set(query["relevant"].values()) <= {1, 2}, query["query"]
        assert not query["relevant"] or 2 in query["relevant"].values(), query["query"]
    languages = Counter(query["lang"] for query in QUERIES if query["relevant"])
    assert OTHER_LANGUAGES <= set(languages)
    assert all(languages[language] >= 5 for language in OTHER_LANGUAGES)
    assert languages["en"] >= 60
    assert sum(not query["relevant"] for query in QUERIES) >= 30
    # Broader words find several items: the set must ask for them, not only for one photo each.
    assert sum(len(query["relevant"]) >= 4 for query in QUERIES) >= 10


def test_photos_are_uploaded_under_file_names_that_do_not_give_away_what_they_show():
    photos = [item for item in ITEMS if item["kind"] == "photo"]
    names = [item["upload_name"] for item in photos]
    assert len(names) == len(set(names))
    for item in photos:
        # File names are searched: one naming its photo's set id would answer that photo's queries.
        id_words = ranking.text_terms(item["id"].replace("-", " "))
        name_words = ranking.text_terms(item["upload_name"]) - ranking.text_terms(item["description"])
        assert not id_words & name_words, item["id"]


def test_rare_exact_words_are_asked_for():
    """English queries for a code or a name (typed with a digit or a capital), whose every word is in
    a wanted item's own text and in at most two items' texts."""

    def text(item: dict) -> set[str]:
        words = item["description"] + " " + item["upload_name"] if item["kind"] == "photo" else item["prompt"]
        return ranking.text_terms(words)

    texts = {item["id"]: text(item) for item in ITEMS}
    rare = []
    for query in QUERIES:
        words = [word.terms[0] for word in ranking.query_words(query["query"]) if len(word.terms) == 1]
        wanted = [name for name, grade in query["relevant"].items() if grade == 2]
        holders = [name for name, held in texts.items() if words and set(words) <= held]
        named = any(char.isdigit() or char.isupper() for char in query["query"])
        if query["lang"] == "en" and named and holders and set(holders) <= set(wanted) and len(holders) <= 2:
            rare.append(query["query"])
    assert len(rare) >= 15, rare
