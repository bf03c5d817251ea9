"""Analysis (library.services.analysis) of real photos and generated images: described, embedded, faces counted."""

from datetime import UTC, datetime

import pytest
from PIL import Image

from library import selectors
from library.backends.base import Context
from library.backends.local import LocalAnalysisBackend
from library.models import LibraryItem
from library.tests.factories import photo_item
from projects.tests.factories import ProjectFactory

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
