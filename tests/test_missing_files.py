"""A stored file missing from storage (a failed restore, a file deleted by hand) answers 410 with a
message, and is logged; never a 500. Every URL that sends a stored file is tried."""

import io
import logging
import zipfile
from pathlib import Path

import pytest
from django.core import signing
from django.core.files.storage import default_storage

from generation import services as generation_services
from generation.models import GeneratedImage
from generation.selectors import download_name
from library.models import ShareLink
from library.selectors import share_file_url
from projects.models import Photo
from training.models import TrainingRun

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]


def file_urls(owned) -> dict[str, bool]:
    """Every URL that sends a stored file, and whether it needs the owner's session."""
    ids = owned["ids"]
    run = TrainingRun.objects.get(id=ids["run_id"])
    share = ShareLink.objects.get(id=ids["share_id"])
    lora_token = signing.dumps(run.id, salt=generation_services.LORA_URL_SALT)
    urls = {f"/projects/files/{ids['photo_id']}/{variant}/": True for variant in ("original", "training", "thumbnail")}
    urls |= {f"/generation/images/{ids['image_id']}/{variant}/": True for variant in ("file", "thumbnail")}
    urls |= {
        f"/generation/images/{ids['image_id']}/download/": True,
        f"/training/runs/{run.id}/lora/": True,
        # The provider's download of the LoRA, and a share link's file: no session.
        f"/generation/loras/{lora_token}/lora.safetensors": False,
        share_file_url(share=share, object_id=ids["image_id"], variant="full"): False,
        share_file_url(share=share, object_id=ids["image_id"], variant="thumbnail"): False,
    }
    return urls


def lose_every_stored_file():
    names = [name for photo in Photo.objects.all() for name in (photo.original, photo.training_image, photo.thumbnail)]
    names += [name for image in GeneratedImage.objects.all() for name in (image.file, image.thumbnail)]
    names += [run.lora_file for run in TrainingRun.objects.exclude(lora_file="")]
    for field in names:
        if field:
            default_storage.delete(field.name)


def test_every_file_url_answers_410_with_a_message_when_the_file_is_gone(owned, client, caplog):
    urls = file_urls(owned)
    client.force_login(owned["owner"])
    for url in urls:
        assert client.get(url).status_code == 200, f"{url} works while the file is there"
    lose_every_stored_file()
    anonymous = type(client)()
    for url, needs_session in urls.items():
        caplog.clear()
        response = (client if needs_session else anonymous).get(url)
        assert response.status_code == 410, url
        assert "no longer in storage" in response.content.decode(), url
        assert any(
            record.levelno == logging.ERROR and "stored file missing from storage" in record.getMessage()
            for record in caplog.records
        ), url


def test_an_api_client_gets_the_error_body(owned):
    from rest_framework.test import APIClient

    lose_every_stored_file()
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {owned['secret']}")
    response = api.get(f"/generation/images/{owned['ids']['image_id']}/file/")
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "file_missing"


def test_a_zip_of_images_leaves_out_the_missing_ones_and_says_which(owned, client):
    images = list(GeneratedImage.objects.filter(trashed_at__isnull=True).order_by("index"))  # owned trashes its last
    default_storage.delete(images[0].file.name)
    client.force_login(owned["owner"])
    response = client.post("/generation/images/selection/", {"images": [image.id for image in images]})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert len(names) == len(images), "the others, and the note"
    note = archive.read("missing-from-storage.txt").decode()
    assert "no longer in storage" in note
    assert download_name(image=images[0]) in note
    assert download_name(image=images[0]) not in names


def test_no_view_opens_a_stored_file_without_the_missing_file_answer():
    """The rule: views open stored files with core.files.open_stored."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("*/**/views.py")
        if ".venv" not in path.parts and "default_storage.open(" in path.read_text()
    ]
    assert offenders == []
