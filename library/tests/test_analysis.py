"""Analysis (library.services.analysis) of real photos and generated images: described, embedded, faces counted."""

import pytest

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
