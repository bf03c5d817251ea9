"""projects.tasks: each task runs its service (eagerly here, as a worker would)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from projects import services, tasks
from projects.models import Photo
from projects.tests.factories import photo_upload

pytestmark = pytest.mark.django_db


def test_process_photo_makes_an_uploaded_photo_ready(project):
    [photo] = services.photo_upload(project=project, files=[photo_upload(1)]).accepted  # its task not run
    tasks.process_photo.delay(photo.id)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY
    assert photo.thumbnail


def test_reconcile_photos_processes_a_photo_whose_message_was_lost(project):
    [photo] = services.photo_upload(project=project, files=[photo_upload(1)]).accepted  # its task not run
    Photo.objects.filter(id=photo.id).update(created_at=timezone.now() - timedelta(minutes=5))
    tasks.reconcile_photos.delay()
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY
