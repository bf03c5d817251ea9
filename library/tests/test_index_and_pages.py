"""The index follows the database; the command rebuilds it; the pages and API search the library."""

from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from generation import services as generation_services
from library import embeddings, index, selectors, services
from library.models import LibraryItem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def generate(user, prompt, run_on_commit):
    with run_on_commit():
        generation = generation_services.generation_create(user=user, training_run=None, prompt=prompt, num_outputs=1)
    return LibraryItem.objects.get(generated_image__generation=generation)


def test_the_index_follows_new_and_deleted_items(run_on_commit):
    user = UserFactory()
    lighthouse = generate(user, "a lighthouse on a cliff above stormy sea", run_on_commit)
    assert selectors.library_search(user=user, query="coastal beacon tower")[0].item == lighthouse
    cake = generate(user, "a chocolate birthday cake with candles", run_on_commit)
    assert selectors.library_search(user=user, query="dessert for a party")[0].item == cake
    with run_on_commit():
        generation_services.image_delete(image=cake.generated_image)
    assert not LibraryItem.objects.filter(id=cake.id).exists()
    assert cake.id not in [hit.item.id for hit in selectors.library_search(user=user, query="dessert for a party")]
    assert index.index_for(user.id).index.ntotal == 1


def test_similar_items_rank_the_closest_first(run_on_commit):
    user = UserFactory()
    first = generate(user, "a golden retriever running on a sandy beach", run_on_commit)
    second = generate(user, "a dog playing fetch by the sea", run_on_commit)
    generate(user, "a stack of invoices on an office desk", run_on_commit)
    similar = selectors.library_similar(item=first)
    assert similar[0].item == second
    assert first not in [hit.item for hit in similar]


def test_the_command_adds_missing_items_and_re_embeds(run_on_commit):
    user = UserFactory()
    item = generate(user, "a red tractor in a wheat field", run_on_commit)
    LibraryItem.objects.filter(id=item.id).update(embedding=None)
    item.delete()
    with run_on_commit():
        call_command("library_index")  # the item comes back and is analysed
    item = LibraryItem.objects.get(user=user)
    assert item.embedding is not None
    assert selectors.library_search(user=user, query="farm machine")[0].item == item


def test_a_tampered_model_file_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "minilm_tokenizer.json"
    fake.write_bytes(Path(embeddings.TOKENIZER).read_bytes() + b" ")
    with pytest.raises(embeddings.ModelIntegrityError, match="pinned sha256"):
        embeddings._verified(fake, embeddings.TOKENIZER_SHA256)


def test_the_search_page_shows_scores_and_why_it_matched(client, run_on_commit, django_assert_max_num_queries):
    user = UserFactory()
    generate(user, "a bowl of ramen with a soft boiled egg", run_on_commit)
    generate(user, "snowy mountain peaks at sunrise", run_on_commit)
    client.force_login(user)
    response = client.get("/library/", {"q": "ramen noodles soup"})
    assert response.context["tiles"][0]["item"].caption.startswith("a bowl of ramen")
    assert "matched: ramen" in response.content.decode()
    with django_assert_max_num_queries(8):
        client.get("/library/")
    for _ in range(3):
        generate(user, "another picture of a cat", run_on_commit)
    with django_assert_max_num_queries(8):
        assert client.get("/library/").content.decode().count('class="image-tile"') == 5


def test_the_api_searches_only_your_items(run_on_commit):
    user = UserFactory()
    item = generate(user, "a vintage film camera on a table", run_on_commit)
    api = APIClient()
    api.force_authenticate(user)
    hits = api.get("/api/v1/library/search/", {"q": "old analog camera"}).json()
    assert hits[0]["item"]["id"] == item.id
    assert hits[0]["score"] > 0.3
    assert "camera" in hits[0]["matched"]
    assert api.get(f"/api/v1/library/items/{item.id}/similar/").status_code == 200
    assert api.get("/api/v1/library/search/").status_code == 400
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert stranger.get("/api/v1/library/search/", {"q": "old analog camera"}).json() == []
    assert stranger.get(f"/api/v1/library/items/{item.id}/").status_code == 404


def test_analysis_runs_on_its_own_queue_and_lost_analyses_are_requeued(run_on_commit):
    from datetime import timedelta

    from django.utils import timezone

    from photoagent.celery import app as celery_app

    assert celery_app.amqp.router.route({}, "library.analyse_item")["queue"].name == "library"
    user = UserFactory()
    item = generate(user, "a paper boat on a puddle", run_on_commit)
    LibraryItem.objects.filter(id=item.id).update(
        status=LibraryItem.Status.PENDING, embedding=None, created_at=timezone.now() - timedelta(hours=1)
    )
    with run_on_commit():
        assert services.library_reconcile() == 1
    item.refresh_from_db()
    assert item.status == LibraryItem.Status.DONE
    assert services.library_reconcile() == 0


def test_the_library_and_its_search_keep_a_constant_query_count(client, run_on_commit, django_assert_num_queries):
    from library.tests.factories import photo_item
    from projects.tests.factories import ProjectFactory

    user = UserFactory()
    generate(user, "a cat asleep on a windowsill", run_on_commit)
    client.force_login(user)
    with django_assert_num_queries(5):  # session, user, count, the page's items with their sources, projects
        assert client.get("/library/").content.decode().count('class="image-tile"') == 1
    with django_assert_num_queries(6):  # session, user, index sync (new vectors, count), the hits, projects
        assert client.get("/library/", {"q": "cat"}).content.decode().count('class="image-tile"') == 1

    for prompt in ("a cat on a red sofa", "a cat chasing a ball of wool", "a cat in a cardboard box"):
        generate(user, prompt, run_on_commit)
    project = ProjectFactory(owner=user)
    photo_item(project, "coffee.jpg", "a cat's bowl beside a cup of coffee", run_on_commit)
    photo_item(project, "astronaut.jpg", "an astronaut holding a cat in a spacesuit", run_on_commit)
    ProjectFactory(owner=user)
    with django_assert_num_queries(5):
        assert client.get("/library/").content.decode().count('class="image-tile"') == 6
    with django_assert_num_queries(6):
        assert client.get("/library/", {"q": "cat"}).content.decode().count('class="image-tile"') >= 4


def test_an_item_page_keeps_a_constant_query_count_as_similar_items_grow(
    client, run_on_commit, django_assert_num_queries
):
    user = UserFactory()
    item = generate(user, "a lighthouse on a cliff above a stormy sea", run_on_commit)
    generate(user, "a lighthouse at night with its beam on", run_on_commit)
    client.force_login(user)
    # Session, user, the item, index sync (new vectors, count), its owner, the similar items, the
    # model picker, the item's albums, the user's albums.
    with django_assert_num_queries(10):
        assert len(client.get(f"/library/items/{item.id}/").context["similar"]) == 1
    for prompt in ("a lighthouse in fog", "a red lighthouse by a pier", "a white lighthouse on a rocky coast"):
        generate(user, prompt, run_on_commit)
    with django_assert_num_queries(10):
        page = client.get(f"/library/items/{item.id}/")
    assert len(page.context["similar"]) == 4


@pytest.mark.parametrize(
    ("path", "tab"),
    [
        ("/library/", "All items"),
        ("/library/albums/", "Albums"),
        ("/library/suggestions/", "Suggested albums"),
        ("/library/duplicates/", "Duplicates"),
        ("/library/shares/", "Share links"),
        ("/library/trash/", "Trash"),
    ],
)
def test_the_library_tabs_show_which_section_is_open(client, path, tab):
    import re

    client.force_login(UserFactory())
    page = client.get(path).content.decode()
    nav = re.search(r'<nav class="actions" aria-label="Library">(.*?)</nav>', page, re.S).group(1)
    assert re.findall(r'aria-current="page">([^<]+)<', nav) == [tab]
    assert nav.count("<a ") == 6
