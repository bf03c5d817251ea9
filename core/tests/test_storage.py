"""Stored files: deleted once their rows' deletion commits, swept when no row names them."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from core import storage
from core.tasks import delete_stored_files, delete_stored_files_queued_before_core
from projects import services as project_services
from projects.tests.conftest import stored_files
from projects.tests.factories import ProjectFactory, photo_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(run_on_commit):
    project = ProjectFactory()
    with run_on_commit():
        [photo] = project_services.photo_upload(project=project, files=[photo_upload(2)]).accepted
    photo.refresh_from_db()
    return photo


def test_the_sweep_deletes_old_unreferenced_files_only(photo):
    kept = set(photo.file_names())
    folder = f"users/{photo.project.owner_id}/generations/7"
    orphan = default_storage.save(f"{folder}/0-left-by-a-killed-worker.webp", ContentFile(b"x"))

    assert storage.storage_sweep(older_than=timedelta(hours=1)) == []  # too recent: may be in flight
    assert storage.storage_sweep(older_than=timedelta(0)) == [orphan]
    assert stored_files(folder="users") == kept


def test_the_sweep_keeps_a_file_another_users_row_does_not_name(photo):
    # Each user's folder is checked against the rows naming files in it, and only those.
    other = ProjectFactory()
    orphan = default_storage.save(f"users/{other.owner_id}/projects/{other.id}/left.jpg", ContentFile(b"x"))
    assert storage.storage_sweep(older_than=timedelta(0)) == [orphan]
    assert stored_files(folder="users") == set(photo.file_names())


def test_the_files_of_a_row_include_those_its_deletion_cascades_to(photo):
    assert sorted(storage.storage_files_of(instances=[photo.project])) == sorted(photo.file_names())
    assert storage.storage_files_of(instances=[]) == []


def test_files_are_deleted_only_once_the_transaction_commits(photo, django_capture_on_commit_callbacks):
    names = photo.file_names()
    with django_capture_on_commit_callbacks() as callbacks:
        storage.storage_delete_files(names=names)
    assert stored_files(folder="users") == set(names)  # not yet: the deletion may still roll back
    assert len(callbacks) == 1
    callbacks[0]()
    assert stored_files(folder="users") == set()


def test_nothing_to_delete_enqueues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        storage.storage_delete_files(names=[])
    assert callbacks == []


def test_deletion_messages_queued_under_the_tasks_first_name_still_run(photo):
    assert delete_stored_files.name == "core.delete_stored_files"
    assert delete_stored_files_queued_before_core.name == "projects.delete_stored_files"
    delete_stored_files_queued_before_core.delay(photo.file_names())
    assert stored_files(folder="users") == set()
