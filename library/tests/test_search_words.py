"""Search combines meaning with exact words (library.ranking, library.selectors.search): a rare code, name or
file name ranks first, results say which words matched (never the project's name), a query in another
language finds English words, nonsense finds nothing, and "Similar" leaves unrelated items out."""

import pytest

from accounts.tests.factories import UserFactory
from library import ranking, selectors
from library.tests.factories import generated_item, photo_item
from projects import services as project_services
from projects.tests.factories import PHOTOS, ProjectFactory, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]

HEADPHONES = [
    "studio shot of the Aurora TX-200 wireless headphones in matte black",
    "wireless headphones lying on a wooden desk next to a laptop",
    "a pair of over-ear headphones hanging on a hook",
]


def uploaded_as(project, name: str, description: str, run_on_commit, source: str = "coffee.jpg"):
    """A real test photo uploaded under a camera's file name, described and analysed."""
    with run_on_commit():
        photo = project_services.photo_upload(
            project=project, files=[upload((PHOTOS / source).read_bytes(), name)]
        ).accepted[0]
    with run_on_commit():
        project_services.photo_update_description(photo=photo, description=description)
    return photo.library_item


def ids(hits) -> list[int]:
    return [hit.item.id for hit in hits]


def test_a_rare_product_code_ranks_first_however_it_is_typed(run_on_commit):
    user = UserFactory()
    code, *others = [generated_item(user, prompt, run_on_commit) for prompt in HEADPHONES]
    for query in ("TX-200", "tx200", "TX 200 headphones", "tx-200"):
        hits = selectors.library_search(user=user, query=query)
        assert ids(hits)[:1] == [code.id], query
    assert "tx-200" in selectors.library_search(user=user, query="tx-200")[0].matched
    # Another code is another product, however alike the two look.
    assert code.id not in ids(selectors.library_search(user=user, query="TX-300"))


def test_a_file_name_finds_its_photo_whatever_it_shows(run_on_commit):
    project = ProjectFactory()
    photo = uploaded_as(project, "IMG_4411.JPG", "a cup of espresso on a saucer", run_on_commit)
    uploaded_as(project, "IMG_4412.JPG", "a latte with a heart in the foam", run_on_commit, source="astronaut.jpg")
    hits = selectors.library_search(user=project.owner, query="IMG_4411")
    assert ids(hits) == [photo.id]
    assert hits[0].why == "matched: img_4411"


def test_a_name_in_a_description_ranks_first(run_on_commit):
    project = ProjectFactory()
    chicky = photo_item(project, "coffee.jpg", "Chicky the pekingese asleep on the sofa", run_on_commit)
    photo_item(project, "astronaut.jpg", "our neighbour's dog asleep on a rug", run_on_commit)
    hits = selectors.library_search(user=project.owner, query="chicky")
    assert ids(hits)[:1] == [chicky.id]
    assert hits[0].matched == ["chicky"]


def test_a_spanish_query_finds_an_english_description(run_on_commit):
    user = UserFactory()
    dog = generated_item(user, "a golden retriever puppy chasing a ball on a sandy beach", run_on_commit)
    generated_item(user, "a bowl of steaming ramen with a soft boiled egg", run_on_commit)
    generated_item(user, "a steam train crossing a stone viaduct in autumn", run_on_commit)
    hits = selectors.library_search(user=user, query="perro en la playa")
    assert ids(hits)[:1] == [dog.id]
    assert hits[0].why == "similar meaning"  # no word of the query is in the description


def test_a_nonsense_query_finds_nothing_and_the_page_says_so(client, run_on_commit):
    user = UserFactory()
    for prompt in ("a djembe drum on a white beanbag", "the starry night sky over a desert", "a rocket on its pad"):
        generated_item(user, prompt, run_on_commit)
    assert selectors.library_search(user=user, query="xylophone spaceship") == []
    client.force_login(user)
    page = client.get("/library/", {"q": "xylophone spaceship"}).content.decode()
    assert "Nothing matched “xylophone spaceship”" in page
    assert 'class="image-tile"' not in page


def test_why_it_matched_never_names_the_project(client, run_on_commit):
    project = ProjectFactory(name="Terra ceramic mug")
    storm = photo_item(project, "astronaut.jpg", "dark storm clouds gathering over open farmland", run_on_commit)
    mug = photo_item(project, "coffee.jpg", "a ceramic mug of tea on a wooden table", run_on_commit)
    hits = selectors.library_search(user=project.owner, query="terra ceramic mug")
    assert ids(hits)[:1] == [mug.id]
    assert hits[0].matched == ["ceramic", "mug"]
    assert storm.id not in ids(hits)
    client.force_login(project.owner)
    page = client.get("/library/", {"q": "storm clouds"}).content.decode()
    assert "matched: storm, clouds" in page
    assert "mug" not in page.split('class="image-grid"')[1]


def test_keyword_hits_keep_to_the_filters(run_on_commit):
    owner = UserFactory()
    kept, other = ProjectFactory(owner=owner, name="Shop"), ProjectFactory(owner=owner, name="Home")
    in_shop = uploaded_as(kept, "DSC_0042.JPG", "a red dahlia in full bloom", run_on_commit)
    at_home = uploaded_as(other, "DSC_0042.jpeg", "a red dahlia in a vase", run_on_commit)
    assert set(ids(selectors.library_search(user=owner, query="DSC_0042"))) == {in_shop.id, at_home.id}
    assert ids(selectors.library_search(user=owner, query="DSC_0042", project_id=kept.id)) == [in_shop.id]
    assert selectors.library_search(user=owner, query="DSC_0042", kind="generated") == []


def test_the_words_follow_a_changed_description_and_a_deleted_photo(run_on_commit):
    project = ProjectFactory()
    item = photo_item(project, "coffee.jpg", "the KX-7 backpack on a peg", run_on_commit)
    assert ids(selectors.library_search(user=project.owner, query="KX-7")) == [item.id]
    with run_on_commit():
        project_services.photo_update_description(photo=item.photo, description="the HB-500 bottle on a rock")
    assert ids(selectors.library_search(user=project.owner, query="HB-500")) == [item.id]
    still = selectors.library_search(user=project.owner, query="KX-7")
    assert "kx-7" not in [word for hit in still for word in hit.matched]
    with run_on_commit():
        project_services.photo_delete(photo=item.photo)
    assert selectors.library_search(user=project.owner, query="HB-500") == []


def test_similar_leaves_unrelated_items_out(run_on_commit):
    user = UserFactory()
    lighthouse = generated_item(user, "a lighthouse on a rocky cliff during a storm, waves crashing", run_on_commit)
    beacon = generated_item(user, "a white lighthouse on a rocky coast in a storm", run_on_commit)
    invoices = generated_item(user, "a stack of invoices on an office desk", run_on_commit)
    similar = ids(selectors.library_similar(item=lighthouse))
    assert similar == [beacon.id]
    assert invoices.id not in similar


def test_words_are_compared_without_case_accents_or_a_plural_s():
    assert ranking.normalise("Cafés") == "cafe"
    assert ranking.normalise("puppies") == "puppy"
    assert ranking.normalise("glass") == "glass"
    assert ranking.normalise("ガラス") == "ガラス"  # a kana's marks are letters, not accents
    assert {"img_4411", "img4411", "img", "4411"} & ranking.text_terms("IMG_4411.JPG") == {"img4411", "img", "4411"}
    assert "jpg" not in ranking.text_terms("IMG_4411.JPG")
    assert ranking.text_terms("Van Gogh's painting of the Rhône") == {"van", "gogh", "painting", "rhone"}


def test_a_query_code_is_one_word_and_other_languages_function_words_are_dropped():
    def terms(query: str) -> list[tuple[str, ...]]:
        return [word.terms for word in ranking.query_words(query, known={"bluegreen"}.__contains__)]

    assert terms("TX-300 headphones") == [("tx300",), ("headphone",)]
    assert terms("blue-green sea") == [("bluegreen",), ("sea",)]
    assert terms("red-brown") == [("red", "brown")]
    assert [word.typed for word in ranking.query_words("perro en la playa")] == ["perro", "playa"]


def test_word_maps_over_the_memory_budget_go_least_recently_used_first(run_on_commit, settings):
    settings.LIBRARY_KEYWORD_MEMORY_MB = 0  # room for the map in use only
    first, second = UserFactory(), UserFactory()
    code = generated_item(first, HEADPHONES[0], run_on_commit)
    generated_item(second, HEADPHONES[1], run_on_commit)
    selectors.library_search(user=first, query="TX-200")
    selectors.library_search(user=second, query="TX-200")
    assert list(ranking._maps) == [second.id]
    assert ids(selectors.library_search(user=first, query="TX-200")) == [code.id]  # rebuilt
    assert list(ranking._maps) == [first.id]
