"""The Replicate generation backend: the real replicate client against a local stand-in of Replicate's HTTP API."""

import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from celery.exceptions import Retry
from django.core import signing
from django.core.files.storage import default_storage
from django.utils import timezone

from core.exceptions import PermanentProviderError
from generation import services
from generation.models import GeneratedImage, Generation
from generation.tasks import RETRY
from generation.tests.factories import crashed_while_submitting, fetches, poll, start, stored_files, trained_model
from training.backends.demo import simulated_safetensors

pytestmark = pytest.mark.django_db

MODEL_PATH = "/v1/models/black-forest-labs/flux-dev-lora/predictions"


def test_an_answer_within_prefer_wait_stores_the_images_at_once(replicate, run_on_commit):
    replicate.finish_predictions = True
    run = trained_model(backend="replicate")
    generation = start(run_on_commit, run, aspect_ratio="4:5", lora_scale=0.8, steps=30, guidance=3.5)

    assert generation.status == Generation.Status.SUCCEEDED, generation.error
    assert generation.error == ""
    assert generation.provider_id in replicate.predictions
    assert generation.gpu_seconds == 7.5
    assert generation.cost == Decimal("0.064")  # two images at $0.032
    images = list(generation.images.order_by("index"))
    assert [(image.index, image.format, image.seed) for image in images] == [(0, "webp", 1234), (1, "webp", 1234)]
    for image in images:
        with default_storage.open(image.file.name, "rb") as stored:
            assert stored.read() == replicate.outputs[f"{generation.provider_id}/out-{image.index}.webp"]
    assert len(stored_files(generation)) == 4  # two images, two thumbnails

    [create] = replicate.prediction_creates()
    assert create.path == MODEL_PATH
    assert create.headers["prefer"] == "wait=3"
    assert create.headers["cancel-after"] == "10m"
    assert set(create.body) == {"input"}  # no public HTTPS address here: no webhook
    sent = create.body["input"]
    assert sent["prompt"] == f"a photo of {run.trigger_word}, on a marble counter"
    assert (sent["num_outputs"], sent["aspect_ratio"], sent["seed"]) == (2, "4:5", 1234)
    assert (sent["guidance"], sent["num_inference_steps"], sent["output_format"]) == (3.5, 30, "webp")
    assert sent["go_fast"] is False  # reproducible from the seed
    assert sent["lora_scale"] == 0.8
    assert re.fullmatch(r"http://testserver/generation/loras/[^/]+/lora\.safetensors", sent["lora_weights"])
    assert "hf_api_token" not in sent
    # Finished within the wait: no polling; outputs fetched once each, without our API token.
    assert fetches(replicate, generation) == []
    downloads = replicate.output_downloads()
    assert len(downloads) == 2
    assert all("authorization" not in call.headers for call in downloads)


def test_a_base_model_job_sends_no_lora(replicate, run_on_commit):
    from accounts.tests.factories import UserFactory

    replicate.finish_predictions = True
    with run_on_commit():
        generation = services.generation_create(
            user=UserFactory(), training_run=None, prompt="a lighthouse at dusk", num_outputs=1, seed=5
        )
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED, generation.error
    [create] = replicate.prediction_creates()
    assert create.body["input"]["prompt"] == "a lighthouse at dusk"
    assert not {"lora_weights", "lora_scale", "hf_api_token"} & set(create.body["input"])


def test_a_slow_prediction_is_polled_until_it_succeeds(replicate, run_on_commit):
    generation = start(run_on_commit)
    assert generation.status == Generation.Status.RUNNING
    assert generation.provider_id
    assert generation.images.count() == 0

    generation = poll(generation, run_on_commit)
    assert generation.status == Generation.Status.RUNNING
    replicate.advance_prediction(generation.provider_id, "processing")
    generation = poll(generation, run_on_commit)
    assert generation.status == Generation.Status.RUNNING
    replicate.advance_prediction(generation.provider_id, "succeeded")
    generation = poll(generation, run_on_commit)

    assert generation.status == Generation.Status.SUCCEEDED, generation.error
    assert generation.images.count() == 2
    assert generation.cost == Decimal("0.064")
    assert generation.polls == 3
    assert len(fetches(replicate, generation)) == 3
    # Done: a late poll asks the provider nothing more.
    poll(generation, run_on_commit)
    assert len(fetches(replicate, generation)) == 3


def test_a_job_past_its_deadline_is_canceled_at_the_provider_and_failed(replicate, run_on_commit):
    generation = start(run_on_commit)
    Generation.objects.filter(id=generation.id).update(state_changed_at=timezone.now() - timedelta(minutes=13))
    generation = poll(generation, run_on_commit)
    assert generation.status == Generation.Status.FAILED
    assert generation.error == "No result after 12 minutes, so we stopped the job. Try again."
    assert replicate.predictions[generation.provider_id]["status"] == "canceled"


def test_a_job_past_its_deadline_ends_even_when_the_provider_cannot_cancel_it(replicate, run_on_commit):
    # The provider no longer knows the prediction (say the API token now belongs to another
    # account): polls and the cancel answer 404, and the job must still end at its deadline.
    generation = start(run_on_commit)
    replicate.fail_next(r"GET /v1/predictions/", 404, {"detail": "Not found.", "status": 404})
    with pytest.raises(PermanentProviderError):
        poll(generation, run_on_commit)
    assert generation.status == Generation.Status.RUNNING
    Generation.objects.filter(id=generation.id).update(state_changed_at=timezone.now() - timedelta(minutes=13))
    replicate.fail_next(r"POST /v1/predictions/.*/cancel", 404, {"detail": "Not found.", "status": 404})
    generation = poll(generation, run_on_commit)
    assert generation.status == Generation.Status.FAILED
    assert generation.error == "No result after 12 minutes, so we stopped the job. Try again."


# Failures at the provider
# ------------------------------------------------------------------------------


def test_a_provider_failure_shows_its_reason(replicate, run_on_commit, client):
    generation = start(run_on_commit)
    replicate.advance_prediction(
        generation.provider_id, "failed", error="Traceback (most recent call last):\nValueError: LoRA keys do not match"
    )
    generation = poll(generation, run_on_commit)
    assert generation.status == Generation.Status.FAILED
    assert (
        generation.error == "The provider could not make these images: ValueError: LoRA keys do not match. Try again."
    )
    assert generation.cost is None
    assert generation.images.count() == 0
    client.force_login(generation.user)
    page = client.get(f"/generation/jobs/{generation.id}/")
    assert "ValueError: LoRA keys do not match" in page.content.decode()


def test_aborted_is_handled_although_the_client_models_reject_it(replicate, run_on_commit):
    generation = start(run_on_commit)
    replicate.advance_prediction(generation.provider_id, "aborted")
    generation = poll(generation, run_on_commit)
    assert generation.status == Generation.Status.FAILED
    assert "before it started" in generation.error
    assert "deadline" in generation.error


def test_a_422_on_create_fails_the_job_at_once(replicate, run_on_commit):
    replicate.fail_next(
        r"POST /v1/models/.*/predictions",
        422,
        {"title": "Input validation failed", "detail": "- input.lora_weights: could not fetch", "status": 422},
    )
    generation = start(run_on_commit)
    assert generation.status == Generation.Status.FAILED
    assert generation.error.startswith("The provider refused the settings of this job: Replicate answered 422")
    assert "could not fetch" in generation.error
    assert generation.provider_id is None
    assert len(replicate.prediction_creates()) == 1  # not retried
    assert replicate.predictions == {}
    assert stored_files(generation) == []


def test_a_create_that_times_out_is_retried_and_adopts_the_accepted_prediction(replicate, run_on_commit, settings):
    # Replicate accepted the prediction but answered after our timeout (1 s wait + 0.2 s).
    settings.REPLICATE_GENERATION_WAIT_SECONDS = 1
    settings.REPLICATE_TIMEOUT = 0.2
    replicate.slow_next(r"POST /v1/models/.*/predictions", 1.5)
    with pytest.raises(Retry):
        start(run_on_commit)
    generation = Generation.objects.get()
    assert (generation.status, generation.provider_id) == (Generation.Status.RUNNING, None)
    [accepted] = replicate.predictions

    settings.REPLICATE_TIMEOUT = 5
    with run_on_commit():
        services.generation_run(generation_id=generation.id)  # the retry, as the worker delivers it
    generation.refresh_from_db()
    assert generation.provider_id == accepted
    assert len(replicate.prediction_creates()) == 1
    replicate.advance_prediction(accepted, "succeeded")
    generation = poll(generation, run_on_commit)
    assert generation.status == Generation.Status.SUCCEEDED
    assert generation.images.count() == 2


def test_a_503_on_create_is_retried_and_then_succeeds(replicate, run_on_commit, worker_retries):
    replicate.fail_next(r"POST /v1/models/.*/predictions", 503, {"detail": "Service Unavailable", "status": 503})
    replicate.finish_predictions = True
    generation = start(run_on_commit)
    assert generation.status == Generation.Status.SUCCEEDED, generation.error
    assert len(replicate.prediction_creates()) == 2
    assert len(replicate.predictions) == 1
    assert generation.images.count() == 2


def test_a_503_on_create_fails_the_job_clearly_when_retries_run_out(replicate, run_on_commit, worker_retries):
    attempts = RETRY.max_retries + 1
    for _ in range(attempts + 1):
        replicate.fail_next(r"POST /v1/models/.*/predictions", 503, {"detail": "Service Unavailable", "status": 503})
    generation = start(run_on_commit)
    assert generation.status == Generation.Status.FAILED
    assert (
        generation.error
        == "The provider kept failing while we worked on this job: Replicate answered 503: Service Unavailable. "
        "Try again later."
    )
    assert len(replicate.prediction_creates()) == attempts
    assert replicate.predictions == {}
    assert generation.cost is None


# Outputs that vanish, and storing each image once
# ------------------------------------------------------------------------------


def test_outputs_gone_before_download_fail_the_job_clearly(replicate, run_on_commit):
    generation = start(run_on_commit)
    replicate.advance_prediction(generation.provider_id, "succeeded")
    replicate.remove_outputs(generation.provider_id, only=[0, 1])  # the files 404
    generation = poll(generation, run_on_commit)
    assert generation.status == Generation.Status.FAILED
    assert generation.error == (
        "No image could be stored: image 1 was deleted by the provider before we could fetch it; "
        "image 2 was deleted by the provider before we could fetch it"
    )
    assert generation.cost == Decimal("0.064")  # the provider billed them all the same
    assert stored_files(generation) == []


def test_data_removed_by_the_provider_fails_the_job_clearly(replicate, run_on_commit):
    generation = start(run_on_commit)
    replicate.advance_prediction(generation.provider_id, "succeeded")
    replicate.remove_outputs(generation.provider_id)  # output: null, data_removed: true
    generation = poll(generation, run_on_commit)
    assert generation.status == Generation.Status.FAILED
    assert generation.error == "The provider deleted the images before we could fetch them. Try again (same settings)."
    assert replicate.output_downloads() == []


def test_one_output_gone_keeps_the_other_with_a_note(replicate, run_on_commit, client):
    generation = start(run_on_commit)
    replicate.advance_prediction(generation.provider_id, "succeeded")
    replicate.remove_outputs(generation.provider_id, only=[1])
    generation = poll(generation, run_on_commit)
    assert generation.status == Generation.Status.SUCCEEDED
    assert [image.index for image in generation.images.all()] == [0]
    assert generation.error == "1 of 2 images stored: image 2 was deleted by the provider before we could fetch it"
    client.force_login(generation.user)
    assert "image 2 was deleted by the provider" in client.get(f"/generation/jobs/{generation.id}/").content.decode()


def test_collecting_again_after_a_failed_download_stores_each_image_once(replicate, run_on_commit):
    generation = start(run_on_commit)
    replicate.advance_prediction(generation.provider_id, "succeeded")
    # The second download hits a CDN hiccup: the task stops after storing the first image.
    replicate.fail_next(r"GET /outputs/.*/out-1\.webp", 503)
    with pytest.raises(Retry):
        poll(generation, run_on_commit)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.RUNNING
    assert [image.index for image in generation.images.all()] == [0]

    # The retry, and then a duplicate message (the reconcile task) for the same job.
    services.generation_collect(generation_id=generation.id)
    services.generation_collect(generation_id=generation.id)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED
    assert GeneratedImage.objects.filter(generation=generation).count() == 2
    assert len(stored_files(generation)) == 4
    downloads = [call.path.rsplit("/", 1)[1] for call in replicate.output_downloads()]
    assert sorted(downloads) == ["out-0.webp", "out-1.webp", "out-1.webp"]


def test_two_collections_racing_for_one_output_keep_one_copy(replicate, run_on_commit):
    replicate.finish_predictions = True
    generation = start(run_on_commit)
    content = replicate.outputs[f"{generation.provider_id}/out-0.webp"]
    # The slower of two workers finishes downloading the first image after the other stored it.
    assert services.image_store(generation=generation, index=0, content=content, seed=generation.seed) is False
    assert GeneratedImage.objects.filter(generation=generation).count() == 2
    assert len(stored_files(generation)) == 4


# Canceling, and submissions that crashed
# ------------------------------------------------------------------------------


def test_cancel_from_the_website_cancels_at_the_provider(replicate, run_on_commit, client):
    generation = start(run_on_commit)
    client.force_login(generation.user)
    client.post(f"/generation/jobs/{generation.id}/cancel/")
    generation.refresh_from_db()
    assert generation.status == Generation.Status.CANCELED
    assert generation.error == "You canceled this job."
    assert [call.path for call in replicate.created("/cancel$")] == [f"/v1/predictions/{generation.provider_id}/cancel"]
    assert replicate.predictions[generation.provider_id]["status"] == "canceled"
    # A late poll changes nothing.
    poll(generation, run_on_commit)
    assert generation.status == Generation.Status.CANCELED
    assert generation.images.count() == 0


def test_a_crash_after_the_provider_accepted_does_not_start_a_second_prediction(replicate, run_on_commit):
    generation = crashed_while_submitting()
    backend = services.backend_for("replicate")
    accepted = backend.submit(
        generation=generation, lora=services.lora_source(run=generation.training_run), webhook_url=None
    )
    with run_on_commit():
        services.generation_run(generation_id=generation.id)  # the message, redelivered
    generation.refresh_from_db()
    assert generation.provider_id == accepted.id
    assert len(replicate.prediction_creates()) == 1
    assert [call.path for call in replicate.requests if call.path == "/v1/predictions"] == ["/v1/predictions"]
    replicate.advance_prediction(accepted.id, "succeeded")
    generation = poll(generation, run_on_commit)
    assert generation.status == Generation.Status.SUCCEEDED


def test_a_crashed_submission_is_found_past_the_first_page_of_predictions(replicate, run_on_commit):
    generation = crashed_while_submitting()
    backend = services.backend_for("replicate")
    accepted = backend.submit(
        generation=generation, lora=services.lora_source(run=generation.training_run), webhook_url=None
    )
    replicate.page_size = 2
    for number in range(5):  # predictions of other jobs, newer: the crashed one is on the third page
        replicate.create_prediction("black-forest-labs/flux-dev-lora", {"input": {"prompt": f"other {number}"}})
    with run_on_commit():
        services.generation_run(generation_id=generation.id)  # the message, redelivered
    generation.refresh_from_db()
    assert generation.provider_id == accepted.id
    assert len(replicate.prediction_creates()) == 1
    assert [call.path for call in replicate.requests if call.path == "/v1/predictions"] == ["/v1/predictions"] * 3


def test_a_crash_before_the_provider_accepted_submits_once_even_with_the_same_settings(replicate, run_on_commit):
    # "Use these settings again": an earlier job has the same prompt and seed.
    replicate.finish_predictions = True
    run = trained_model(backend="replicate")
    earlier = start(run_on_commit, run)
    assert earlier.status == Generation.Status.SUCCEEDED
    replicate.finish_predictions = False
    generation = crashed_while_submitting(run, prompt=earlier.prompt, seed=earlier.seed)
    assert generation.prompt == earlier.prompt
    with run_on_commit():
        services.generation_run(generation_id=generation.id)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.RUNNING
    assert len(replicate.prediction_creates()) == 2
    assert generation.provider_id not in (None, earlier.provider_id)


# Where the provider gets the LoRA
# ------------------------------------------------------------------------------


def test_a_published_lora_is_read_from_the_private_hub_repo(replicate, run_on_commit, settings):
    settings.HF_TOKEN = "hf_standin"
    settings.HF_NAMESPACE = "acme-loras"
    run = trained_model(backend="replicate", hf_repo_id="acme-loras/blue-mug-1-run-1", hf_commit="c" * 40)
    start(run_on_commit, run)
    sent = replicate.prediction_creates()[0].body["input"]
    assert sent["lora_weights"] == "https://huggingface.co/acme-loras/blue-mug-1-run-1/resolve/main/lora.safetensors"
    assert sent["hf_api_token"] == "hf_standin"


@pytest.mark.parametrize(("hf_token", "hf_repo_id"), [("", "acme-loras/blue-mug-1-run-1"), ("hf_standin", "")])
def test_otherwise_the_lora_is_served_behind_a_signed_expiring_url(
    replicate, run_on_commit, settings, client, monkeypatch, hf_token, hf_repo_id
):
    settings.HF_TOKEN = hf_token
    settings.HF_NAMESPACE = "acme-loras"
    run = trained_model(backend="replicate", hf_repo_id=hf_repo_id)
    start(run_on_commit, run)
    sent = replicate.prediction_creates()[0].body["input"]
    assert "hf_api_token" not in sent
    path = sent["lora_weights"].removeprefix("http://testserver")
    assert re.fullmatch(r"/generation/loras/[^/]+/lora\.safetensors", path)

    response = client.get(path)  # the provider, not logged in
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == simulated_safetensors()
    token = path.split("/")[3]
    assert client.get(path.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))).status_code == 404

    # A URL signed longer ago than the provider needs to fetch the LoRA.
    signed_at = int(time.time()) - services.LORA_URL_MAX_AGE - 5
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(signed_at))
    expired = services.lora_source(run=run).url.removeprefix("http://testserver")
    assert expired != path
    assert client.get(expired).status_code == 404


def test_a_provider_image_carrying_a_second_picture_is_stored_as_the_jpeg_it_is(replicate, run_on_commit):
    import io

    from PIL import Image

    generation = start(run_on_commit)
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (640, 480), "teal"), Image.new("RGB", (320, 240), "white")
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    assert services.image_store(generation=generation, index=0, content=buffer.getvalue(), seed=generation.seed) is True
    image = generation.images.get(index=0)
    assert (image.format, image.width, image.height) == ("jpg", 640, 480)
