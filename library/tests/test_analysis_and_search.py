"""Local analysis of real photos, the per-user index, search with reasons, and similar items."""

import pytest

from accounts.tests.factories import UserFactory
from generation import services as generation_services
from library import selectors
from library.models import LibraryItem
from library.tests.factories import photo_item
from projects import services as project_services
from projects.tests.factories import ProjectFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_photos_and_generated_images_are_analysed_and_found_by_meaning(run_on_commit):
    project = ProjectFactory(name="Morning coffee")
    coffee = photo_item(project, "coffee.jpg", "a cup of espresso with latte art on a saucer", run_on_commit)
    astronaut = photo_item(project, "astronaut.jpg", "an astronaut in a white spacesuit with the flag", run_on_commit)
    with run_on_commit():
        generation = generation_services.generation_create(
            user=project.owner, training_run=None, prompt="a red barn in a snowy field at dusk", num_outputs=1
        )
    barn = LibraryItem.objects.get(generated_image__generation=generation)

    for item in (coffee, astronaut, barn):
        item.refresh_from_db()
        assert item.status == LibraryItem.Status.DONE, item.error
        assert item.embedding is not None
        assert item.colours
    assert "espresso" in coffee.tags
    assert "photo" in coffee.tags
    assert "generated" in barn.tags

    hits = selectors.library_search(user=project.owner, query="hot drink in a mug")
    assert hits[0].item == coffee
    hits = selectors.library_search(user=project.owner, query="space exploration flag")
    assert hits[0].item == astronaut
    assert "flag" in hits[0].matched
    hits = selectors.library_search(user=project.owner, query="farm building in winter")
    assert hits[0].item == barn
    generated_only = selectors.library_search(user=project.owner, query="espresso", kind="generated")
    assert coffee not in [hit.item for hit in generated_only]


def test_search_never_returns_another_users_items(run_on_commit):
    mine = ProjectFactory()
    photo_item(mine, "coffee.jpg", "espresso cup", run_on_commit)
    stranger = UserFactory()
    assert selectors.library_search(user=stranger, query="espresso cup") == []


def test_a_changed_description_is_analysed_again_and_searchable(run_on_commit):
    project = ProjectFactory()
    item = photo_item(project, "coffee.jpg", "a cup on a table", run_on_commit)
    assert selectors.library_search(user=project.owner, query="a mug on a desk")[0].item == item
    with run_on_commit():
        project_services.photo_update_description(photo=item.photo, description="a glass of orange juice")
    item.refresh_from_db()
    assert "orange" in item.tags
    assert selectors.library_search(user=project.owner, query="a glass of fresh juice")[0].score > 0.5


def test_faces_are_counted_for_every_item(run_on_commit):
    project = ProjectFactory()  # a product project: uploads do not count faces
    person = photo_item(project, "grace_hopper.jpg", "a portrait in uniform", run_on_commit)
    cup = photo_item(project, "coffee.jpg", "a cup", run_on_commit)
    person.refresh_from_db()
    cup.refresh_from_db()
    assert person.face_count == 1
    assert "people" in person.tags
    assert cup.face_count == 0
