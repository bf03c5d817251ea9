"""Analysis (library.services.analysis) of real photos and generated images: described, embedded, faces counted."""

from datetime import UTC, datetime

import pytest
from PIL import Image

from library import selectors, services
from library.backends.base import Analysis, Context
from library.backends.local import LocalAnalysisBackend
from library.models import LibraryItem
from library.tests.factories import generated_item, photo_item
from projects import services as project_services
from projects.tests.factories import PHOTOS, ProjectFactory, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_faces_are_counted_for_every_item(run_on_commit):
    project = ProjectFactory()  # a product project: uploads do not count faces
    person = photo_item(project, "grace_hopper.jpg", "a portrait in uniform", run_on_commit)
    cup = photo_item(project, "coffee.jpg", "a cup", run_on_commit)
    person.refresh_from_db()
    cup.refresh_from_db()
    assert person.face_count == 1
    assert "people" in person.tags
    assert cup.face_count == 0


def test_the_offline_caption_is_the_users_description_without_the_project_or_a_guessed_scene(run_on_commit):
    project = ProjectFactory(name="Terra ceramic mug")  # a product project
    description = "A blue painting of elephants resting among acacia trees. Signed in the corner."
    item = photo_item(project, "coffee.jpg", description, run_on_commit)
    item.refresh_from_db()
    assert item.status == LibraryItem.Status.DONE, item.error
    assert item.caption == "A blue painting of elephants resting among acacia trees"
    assert item.description.startswith(description)
    for text in (item.caption, item.description, " ".join(item.tags), item.search_text()):
        assert "terra" not in text.lower()
        assert "mug" not in text.lower()
        assert "landscape photo" not in text.lower()
    assert {"elephants", "acacia trees", "blue painting"} <= set(item.tags)
    assert not {"among", "resting", "product", "a", "of", "the"} & set(item.tags)
    assert "photo" in item.tags  # what kind of item it is, and its orientation, are known
    assert any(tag in item.tags for tag in ("landscape", "portrait", "square"))


def test_the_projects_name_does_not_make_an_unrelated_item_match(run_on_commit):
    project = ProjectFactory(name="Mug")
    storm = photo_item(project, "coffee.jpg", "dark storm clouds gathering over the sea", run_on_commit)
    storm.refresh_from_db()
    assert "mug" not in storm.search_text().lower()
    for hit in selectors.library_search(user=project.owner, query="mug"):
        assert "mug" not in hit.matched


def test_offline_tags_name_the_facts_the_file_gives():
    context = Context(
        kind="generated",
        text="a TOKQX1 vase of tulips on the windowsill, in soft morning light",
        project_name="Tulip shop",
        category="product",
        trigger_word="TOKQX1",
        colours=("#3259c8", "#f0f0f0"),
        faces=2,
        orientation="portrait",
        camera="Canon EOS R5",
        taken_at=datetime(2024, 6, 1, 9, 30, tzinfo=UTC),
    )
    analysed = LocalAnalysisBackend().analyse(image=Image.new("RGB", (40, 60), "white"), context=context)
    assert analysed.caption == "a vase of tulips on the windowsill, in soft morning light"
    assert "TOKQX1" not in analysed.description
    assert "Tulip shop" not in analysed.description
    for tag in ("tulips", "windowsill", "soft morning light", "generated", "portrait", "blue", "white", "people"):
        assert tag in analysed.tags
    assert {"Canon EOS R5", "2024", "june 2024"} <= set(analysed.tags)
    assert not {"product", "on", "the", "in", "tulip shop", "tokqx1"} & set(analysed.tags)


def test_an_undescribed_photo_is_shown_by_its_file_name_and_says_how_to_be_found(client, run_on_commit):
    project = ProjectFactory(name="Terra ceramic mug")
    with run_on_commit():
        photo = project_services.photo_upload(
            project=project, files=[upload((PHOTOS / "coffee.jpg").read_bytes(), "IMG_2034.jpg")]
        ).accepted[0]
    item = LibraryItem.objects.get(photo=photo)
    assert item.status == LibraryItem.Status.DONE, item.error
    # Nothing describes it, so nothing is said: no caption, no words of the project or the file name.
    assert item.caption == ""
    assert not {"terra", "mug", "img"} & {word for tag in item.tags for word in tag.lower().split()}
    album = services.album_create(user=project.owner, name="Desk", item_ids=[item.id])
    client.force_login(project.owner)

    link = f'<a href="/library/items/{item.id}/"><img src="/projects/files/{photo.id}/thumbnail/" alt="IMG_2034.jpg"'
    for page in ("/library/", f"/library/albums/{album.id}/"):
        assert link in client.get(page).content.decode(), page
    page = client.get(f"/library/items/{item.id}/").content.decode()
    assert "<h1>IMG_2034.jpg</h1>" in page
    assert 'alt="IMG_2034.jpg"' in page
    assert "No description yet: describe this photo in" in page


def test_an_image_waiting_to_be_described_is_named_by_its_place_in_its_generation(client, run_on_commit):
    project = ProjectFactory()
    item = generated_item(project.owner, "a red barn in a snowy field at dusk", run_on_commit)
    assert item.caption == "a red barn in a snowy field at dusk"  # the prompt, once analysed
    LibraryItem.objects.filter(id=item.id).update(status=LibraryItem.Status.PENDING, caption="")
    client.force_login(project.owner)
    image = item.generated_image
    name = f"Image 1 of generation #{image.generation_id}"
    assert f'alt="{name}"' in client.get("/library/").content.decode()
    page = client.get(f"/library/items/{item.id}/").content.decode()
    assert f"<h1>{name}</h1>" in page
    assert "Being described…" in page


def analyse(text: str, **context) -> Analysis:
    return LocalAnalysisBackend().analyse(
        image=Image.new("RGB", (60, 40), "white"), context=Context(kind="photo", text=text, **context)
    )


def test_offline_tags_are_the_things_named_not_the_grammar():
    tags = set(
        analyse(
            "It's my sister's dog, really; dark storm clouds gathering. Rowing boats pulled up on the shore, close up"
        ).tags
    )
    assert {"sister", "dog", "dark storm clouds", "rowing boats", "shore", "close-up"} <= tags
    # No contractions, no owner glued to what they own, no verb taken for part of a thing.
    assert not {"it's", "sister's", "sister dog", "really", "clouds gathering", "boats pulled", "close"} & tags


def test_the_offline_look_names_only_what_the_file_shows():
    undescribed = analyse("", colours=("#3259c8",), orientation="landscape")
    assert undescribed.caption == ""
    assert undescribed.aesthetic == "landscape composition, bright, high-key light, colour palette of blue, photograph"
    described = analyse("A blue painting of elephants among acacia trees", orientation="landscape")
    # Each thing once, as the owner named it; no lens, style or mood made up.
    assert described.aesthetic.startswith("blue painting, elephants, acacia trees, landscape composition")
    assert described.description == "A blue painting of elephants among acacia trees."
