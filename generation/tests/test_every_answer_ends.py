"""Provider answers outside the happy path still end every job, once, with a message that says why."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from generation import services
from generation.models import Generation
from generation.tests.factories import poll, start, stored_files
from standins.replicate import output_image

pytestmark = pytest.mark.django_db


def test_outputs_as_data_uris_are_stored(replicate, run_on_commit):
    generation = start(run_on_commit)
    replicate.advance_prediction(generation.provider_id, "succeeded")
    replicate.predictions[generation.provider_id]["output"] = [
        "data:image/webp;base64," + base64.b64encode(output_image(index)).decode() for index in range(2)
    ]
    generation = poll(generation, run_on_commit)
    assert generation.status == Generation.Status.SUCCEEDED, generation.error
    assert generation.images.count() == 2
    assert len(stored_files(generation)) == 4
    assert replicate.output_downloads() == []


@pytest.mark.parametrize(
    ("output", "words"),
    [
        ([42, {"url": "x"}], "output 1 is not an image address"),
        (["data:image/webp;base64,!!!not base64!!!"], "does not decode"),
        (["ftp://example.com/out-0.webp"], "an output we cannot read"),
        (["data:image/webp;base64," + base64.b64encode(b"not an image").decode()], "not a usable image"),
    ],
    ids=["not addresses", "bad data uri", "unknown scheme", "not an image"],
)
def test_outputs_we_cannot_use_end_the_job_with_a_refusal(replicate, run_on_commit, output, words):
    generation = start(run_on_commit)
    replicate.advance_prediction(generation.provider_id, "succeeded")
    replicate.predictions[generation.provider_id]["output"] = output
    generation = poll(generation, run_on_commit)
    assert generation.status == Generation.Status.FAILED
    assert generation.error_kind == "bad_output"
    assert words in generation.error
    assert "base64," not in generation.error  # never the raw data
    assert stored_files(generation) == []


def test_an_oversized_data_uri_is_refused_before_decoding(replicate, run_on_commit, settings):
    settings.GENERATION_MAX_IMAGE_BYTES = 100
    generation = start(run_on_commit, num_outputs=1)
    replicate.advance_prediction(generation.provider_id, "succeeded")
    replicate.predictions[generation.provider_id]["output"] = ["data:image/webp;base64," + "A" * 10_000]
    generation = poll(generation, run_on_commit)
    assert generation.status == Generation.Status.FAILED
    assert "larger than" in generation.error


def test_a_provider_side_cancel_ends_the_job_with_the_reason(replicate, run_on_commit):
    generation = start(run_on_commit)
    replicate.advance_prediction(generation.provider_id, "canceled")
    generation = poll(generation, run_on_commit)
    assert (generation.status, generation.error_kind) == (Generation.Status.CANCELED, "provider_canceled")
    assert generation.error == "The provider canceled this job. Try again."


@pytest.mark.parametrize(
    ("phase", "minutes", "words"),
    [
        ("queued", 11, "Our workers did not pick this job up within 10 minutes"),
        ("running", 13, "No result after 12 minutes"),
        ("collecting", 16, "could not fetch them within 15 minutes"),
    ],
)
def test_every_phase_ends_at_its_deadline(replicate, run_on_commit, phase, minutes, words):
    generation = start(run_on_commit)
    if phase == "queued":
        Generation.objects.filter(id=generation.id).update(status=Generation.Status.QUEUED, provider_id=None)
    if phase == "collecting":
        Generation.objects.filter(id=generation.id).update(output_urls=["https://replicate.delivery/x/out-0.webp"])
    Generation.objects.filter(id=generation.id).update(state_changed_at=timezone.now() - timedelta(minutes=minutes))
    with run_on_commit():
        services.generation_reconcile()
    generation.refresh_from_db()
    assert (generation.status, generation.error_kind) == (Generation.Status.FAILED, "deadline")
    assert words in generation.error


def test_a_job_that_waits_longer_than_usual_says_so(replicate, run_on_commit, client):
    generation = start(run_on_commit)
    client.force_login(generation.user)
    assert 'data-testid="wait-notice"' not in client.get(f"/generation/jobs/{generation.id}/").content.decode()
    Generation.objects.filter(id=generation.id).update(state_changed_at=timezone.now() - timedelta(minutes=5))
    page = client.get(f"/generation/jobs/{generation.id}/").content.decode()
    assert (
        "taking longer than usual to make these images; we stop the job if they are not ready within 7 minutes" in page
    )
