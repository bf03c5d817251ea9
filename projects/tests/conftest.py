import pytest
from django.core.files.storage import default_storage

from projects.tests.factories import ProjectFactory


def stored_files(storage=None, folder="") -> set[str]:
    """Every object in storage, recursively."""
    storage = storage or default_storage
    folders, files = storage.listdir(folder)
    names = {f"{folder}/{name}".lstrip("/") for name in files}
    for sub in folders:
        names |= stored_files(storage, f"{folder}/{sub}".lstrip("/"))
    return names


def referenced_files() -> set[str]:
    from projects.models import Photo

    return {name for photo in Photo.objects.all() for name in photo.file_names()}


@pytest.fixture
def project(owner):
    return ProjectFactory(owner=owner)


@pytest.fixture
def person_project(owner):
    return ProjectFactory(owner=owner, category="person")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client
