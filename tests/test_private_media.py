"""Photos, generated images and LoRAs are private: no URL serves the media folder, and each file is
reached only through a view that checks its owner (session or API token), or a signed, expiring
URL (S3 presigned URLs, the provider's LoRA link, share links: tested with their features)."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from django.views.static import serve
from rest_framework.test import APIClient

from accounts import services as account_services
from tests.test_access_matrix import all_routes

pytestmark = pytest.mark.django_db


def callbacks(patterns=None):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from callbacks(pattern.url_patterns)
        else:
            yield pattern.callback


def test_no_url_and_no_static_folder_serves_the_media_folder():
    assert all(callback is not serve for callback in callbacks())
    assert not any(route.startswith(django_settings.MEDIA_URL.lstrip("/")) for route in all_routes())
    media = django_settings.MEDIA_ROOT.resolve()
    for static in [*django_settings.STATICFILES_DIRS, django_settings.STATIC_ROOT]:
        assert not media.is_relative_to(static.resolve())
        assert not static.resolve().is_relative_to(media)
    assert getattr(django_settings, "WHITENOISE_ROOT", None) is None


@pytest.fixture
def on_disk(settings, tmp_path):
    """Media on local disk, as the embedded default keeps it (set before `owned` stores anything)."""
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


def test_stored_files_are_not_reachable_at_their_storage_path(on_disk, owned, client):
    names = [path.relative_to(on_disk).as_posix() for path in on_disk.rglob("*") if path.is_file()]
    assert len(names) > 8  # photos, generated images, their thumbnails, the LoRA
    anonymous = type(client)()
    client.force_login(owned["owner"])
    for name in names:
        for url in (f"/media/{name}", f"/{name}", f"/static/../media/{name}", f"/static/{name}"):
            assert anonymous.get(url).status_code == 404, url
            # Not even for the owner: files go out only through views that check who asks.
            assert client.get(url).status_code == 404, url


def owner_files(owned) -> dict[str, bool]:
    """Every private file URL, and whether an API token opens it too (the file views are API views)."""
    ids = owned["ids"]
    urls = {f"/projects/files/{ids['photo_id']}/{variant}/": True for variant in ("original", "training", "thumbnail")}
    urls |= {f"/generation/images/{ids['image_id']}/{variant}/": True for variant in ("file", "thumbnail")}
    urls |= {f"/generation/images/{ids['image_id']}/download/": False, f"/training/runs/{ids['run_id']}/lora/": False}
    return urls


def test_the_owner_gets_the_files_and_no_shared_cache_keeps_them(owned, client):
    client.force_login(owned["owner"])
    for url in owner_files(owned):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "private" in response["Cache-Control"], url


def test_file_views_take_a_live_api_token_only(owned):
    owner = owned["owner"]
    expiring, expiring_secret = account_services.api_token_create(
        user=owner, name="soon", expires_at=timezone.now() + timedelta(days=1)
    )
    expiring.expires_at = timezone.now() - timedelta(seconds=1)
    expiring.save(update_fields=["expires_at"])
    live = APIClient(HTTP_AUTHORIZATION=f"Bearer {owned['secret']}")
    expired = APIClient(HTTP_AUTHORIZATION=f"Bearer {expiring_secret}")
    for url, by_token in owner_files(owned).items():
        if by_token:
            assert live.get(url).status_code == 200, url
            assert expired.get(url).status_code == 401, url
        else:
            assert live.get(url).status_code == 302, url  # website downloads need the session
