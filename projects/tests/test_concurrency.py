"""Two uploads racing for the last places never make a project exceed its photo limit."""

import threading

import pytest
from django.db import connection

from projects import services
from projects.models import Photo
from projects.tests.factories import ProjectFactory, photo_upload


@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_never_exceed_the_limit(settings):
    settings.PROJECT_PHOTOS_MAX = 4
    project = ProjectFactory()
    batches = [[photo_upload(seed) for seed in range(start, start + 3)] for start in (0, 10, 20)]
    barrier = threading.Barrier(len(batches))
    errors = []

    def upload_batch(files):
        try:
            barrier.wait()
            services.photo_upload(project=project, files=files)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload_batch, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Photo.objects.filter(project=project).count() == 4
