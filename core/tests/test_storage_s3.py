"""Media on S3 through django-storages, against a local S3-compatible server (moto's server mode)."""

from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

pytestmark = pytest.mark.django_db


@pytest.fixture
def s3_storage(settings):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
    boto3.client("s3", endpoint_url=endpoint, **credentials).create_bucket(Bucket="photoagent-media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "photoagent-media",
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "signature_version": "s3v4",
                "addressing_style": "path",
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": settings.MEDIA_URL_EXPIRY_SECONDS,
                "file_overwrite": False,
            },
        },
    }
    yield storages["default"]
    server.stop()


def test_healthz_writes_to_the_bucket(client, s3_storage):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["storage"]["ok"] is True
    # The probe object is gone again.
    assert s3_storage.listdir("healthz") == ([], [])


def test_media_urls_are_short_lived_presigned_urls(s3_storage, settings):
    name = s3_storage.save("u1/photo.txt", ContentFile(b"pixels"))
    query = parse_qs(urlsplit(s3_storage.url(name)).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == [str(settings.MEDIA_URL_EXPIRY_SECONDS)]
    with s3_storage.open(name) as stored:
        assert stored.read() == b"pixels"


def test_photos_go_to_the_bucket_under_per_user_keys_and_leave_with_their_project(s3_storage, settings, run_on_commit):
    from projects import services
    from projects.tests.factories import ProjectFactory, photo_upload

    settings.AWS_STORAGE_BUCKET_NAME = "photoagent-media"
    project = ProjectFactory()
    with run_on_commit():
        [photo] = services.photo_upload(project=project, files=[photo_upload(1)]).accepted
    photo.refresh_from_db()
    keys = {stored.key for stored in s3_storage.bucket.objects.filter(Prefix="users/")}
    prefix = f"users/{project.owner_id}/projects/{project.id}/{photo.key.hex}/"
    assert keys == {prefix + name for name in ("original.jpg", "training.jpg", "thumbnail.webp", "preview.webp")}

    from projects.selectors import photo_url

    url = photo_url(photo=photo, variant="thumbnail")
    assert "X-Amz-Signature=" in url
    assert f"X-Amz-Expires={settings.MEDIA_URL_EXPIRY_SECONDS}" in url

    with run_on_commit():
        services.project_delete(project=project)
    assert list(s3_storage.bucket.objects.filter(Prefix="users/")) == []
