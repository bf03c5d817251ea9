"""What killed workers and lost messages leave behind is picked up: stuck photos, orphan files."""

import logging
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from kombu.exceptions import OperationalError

from projects import services
from projects.models import Photo
from projects.tests.conftest import stored_files
from projects.tests.factories import photo_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    from projects.tasks import process_photo

    monkeypatch.setattr(process_photo, "delay", refuse)
    return monkeypatch


def test_an_upload_during_a_broker_outage_is_kept_and_processed_later(project, broker_down, run_on_commit, caplog):
    with caplog.at_level(logging.WARNING, logger="core.tasks"), run_on_commit():
        result = services.photo_upload(project=project, files=[photo_upload(1)])
    [photo] = result.accepted
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PROCESSING
    assert "left to the reconcile tasks" in caplog.text

    broker_down.undo()
    services.photo_reconcile()
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PROCESSING  # not stalled long enough yet

    Photo.objects.filter(id=photo.id).update(created_at=timezone.now() - timedelta(minutes=5))
    services.photo_reconcile()
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY


def test_the_sweep_deletes_old_unreferenced_files_only(project, run_on_commit):
    with run_on_commit():
        [photo] = services.photo_upload(project=project, files=[photo_upload(2)]).accepted
    photo.refresh_from_db()
    kept = set(photo.file_names())
    folder = f"users/{project.owner_id}/generations/7"
    orphan = default_storage.save(f"{folder}/0-left-by-a-killed-worker.webp", ContentFile(b"x"))

    assert services.storage_sweep(older_than=timedelta(hours=1)) == []  # too recent: may be in flight
    assert services.storage_sweep(older_than=timedelta(0)) == [orphan]
    assert stored_files(folder="users") == kept


def test_a_worker_dying_before_the_project_status_is_updated_leaves_the_photo_to_redo(
    project, settings, monkeypatch, run_on_commit
):
    settings.PROJECT_PHOTOS_MIN = 1
    [photo] = services.photo_upload(project=project, files=[photo_upload(3)]).accepted  # not processed yet
    services.photo_update_description(photo=photo, description="a blue mug")

    def worker_killed(**kwargs):
        raise SystemExit("SIGKILL")

    monkeypatch.setattr(services, "project_refresh_status", worker_killed)
    with pytest.raises(SystemExit):
        services.photo_process(photo_id=photo.id)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PROCESSING  # not recorded as ready without its project

    monkeypatch.undo()
    Photo.objects.filter(id=photo.id).update(created_at=timezone.now() - timedelta(minutes=5))
    with run_on_commit():
        services.photo_reconcile()
    project.refresh_from_db()
    assert project.status == project.Status.READY
