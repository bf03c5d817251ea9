"""Base-model images with the real InferenceClient against a local Hugging Face Inference stand-in."""

from decimal import Decimal

import pytest
from celery.exceptions import Retry
from django.core.files.storage import default_storage
from PIL import Image

from accounts.tests.factories import UserFactory
from generation import services
from generation.backends.base import dimensions
from generation.models import Generation
from generation.tasks import RETRY
from standins.huggingface_inference import start_inference_standin

pytestmark = pytest.mark.django_db


@pytest.fixture
def inference(settings):
    server = start_inference_standin()
    settings.GENERATION_BASE_BACKEND = "generation.backends.huggingface.HuggingFaceGenerationBackend"
    settings.HF_TOKEN = "hf_standin"
    settings.HF_NAMESPACE = "acme-loras"
    settings.HF_INFERENCE_URL = server.model_url()
    settings.HF_INFERENCE_TIMEOUT = 5
    yield server
    server.shutdown()
    server.server_close()


def start(run_on_commit, **fields) -> Generation:
    fields = {"prompt": "a lighthouse at dusk, film photo", "num_outputs": 2, "seed": 40, **fields}
    with run_on_commit():
        generation = services.generation_create(user=UserFactory(), training_run=None, **fields)
    generation.refresh_from_db()
    return generation


def test_a_base_model_job_stores_one_image_per_seed(inference, run_on_commit):
    generation = start(run_on_commit, num_outputs=3, aspect_ratio="3:2", steps=20, guidance=4.5, output_format="jpg")

    assert generation.status == Generation.Status.SUCCEEDED, generation.error
    assert (generation.backend, generation.error, generation.provider_id) == ("huggingface", "", None)
    assert generation.cost == Decimal("0.096")
    width, height = dimensions("3:2")
    images = list(generation.images.order_by("index"))
    assert [(image.index, image.seed) for image in images] == [(0, 40), (1, 41), (2, 42)]
    for image in images:
        assert (image.width, image.height, image.format) == (width, height, "jpg")
        with default_storage.open(image.file.name, "rb") as stored, Image.open(stored) as picture:
            assert (picture.format, picture.size) == ("JPEG", (width, height))

    assert [call.path for call in inference.requests] == ["/hf-inference/models/black-forest-labs/FLUX.1-dev"] * 3
    assert all(call.headers["authorization"] == "Bearer hf_standin" for call in inference.requests)
    first = inference.requests[0].json
    assert first["inputs"] == "a lighthouse at dusk, film photo"
    assert first["parameters"] == {
        "width": width,
        "height": height,
        "num_inference_steps": 20,
        "guidance_scale": 4.5,
        "seed": 40,
    }
    assert inference.seeds() == [40, 41, 42]


@pytest.mark.parametrize("fault", ["503", "timeout"])
def test_a_model_that_is_loading_or_slow_is_retried(inference, run_on_commit, settings, fault):
    if fault == "503":
        inference.fail_next(
            503, {"error": "Model black-forest-labs/FLUX.1-dev is currently loading", "estimated_time": 20}
        )
    else:
        settings.HF_INFERENCE_TIMEOUT = 0.3
        inference.slow_next(0.6)
    with pytest.raises(Retry):
        start(run_on_commit)
    generation = Generation.objects.get()
    assert generation.status == Generation.Status.RUNNING
    assert generation.images.count() == 0

    with run_on_commit():
        services.generation_run(generation_id=generation.id)  # the retry, as the worker delivers it
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED, generation.error
    assert generation.images.count() == 2
    assert inference.seeds() == [40, 40, 41]


def test_a_refused_request_fails_the_job_with_the_reason(inference, run_on_commit):
    inference.fail_next(400, {"error": "Input validation error: `inputs` must have less than 512 tokens"})
    generation = start(run_on_commit)
    assert generation.status == Generation.Status.FAILED
    assert generation.error.startswith("The provider refused the settings of this job: Hugging Face Hub answered 400")
    assert "must have less than 512 tokens" in generation.error
    assert generation.images.count() == 0
    assert len(inference.requests) == 1  # not retried


def test_a_refusal_after_the_first_image_keeps_it_with_a_note(inference, run_on_commit):
    inference.succeed_next()
    inference.fail_next(400, {"error": "Input validation error: seed out of range"})
    generation = start(run_on_commit, num_outputs=3)
    assert generation.status == Generation.Status.SUCCEEDED
    assert [image.index for image in generation.images.all()] == [0]
    assert generation.error.startswith("1 of 3 images stored: Hugging Face Hub answered 400")
    assert generation.cost == services.generation_estimate(num_outputs=1)  # only the image made is billed
    assert "seed out of range" in generation.error
    assert len(inference.requests) == 2  # stopped at the refusal


def test_a_retry_after_the_first_image_makes_only_the_missing_ones(inference, run_on_commit, worker_retries):
    inference.succeed_next()
    inference.fail_next(503, {"error": "Service Unavailable"})
    generation = start(run_on_commit, num_outputs=3)
    assert generation.status == Generation.Status.SUCCEEDED, generation.error
    assert [(image.index, image.seed) for image in generation.images.order_by("index")] == [(0, 40), (1, 41), (2, 42)]
    assert inference.seeds() == [40, 41, 41, 42]
    _, files = default_storage.listdir(f"users/{generation.user_id}/generations/{generation.id}")
    assert len(files) == 6


def test_retries_running_out_after_the_first_image_keep_it_with_a_note(inference, run_on_commit, worker_retries):
    inference.succeed_next()
    for _ in range(RETRY.max_retries + 1):
        inference.fail_next(503, {"error": "Service Unavailable"})
    generation = start(run_on_commit)
    assert generation.status == Generation.Status.SUCCEEDED
    assert [image.index for image in generation.images.all()] == [0]
    assert generation.error.startswith(
        "1 of 2 images stored: The provider kept failing while we worked on this job: Hugging Face Hub answered 503"
    )
    assert inference.seeds() == [40] + [41] * (RETRY.max_retries + 1)


def test_retries_running_out_before_any_image_fail_the_job(inference, run_on_commit, worker_retries):
    for _ in range(RETRY.max_retries + 1):
        inference.fail_next(503, {"error": "Service Unavailable"})
    generation = start(run_on_commit)
    assert generation.status == Generation.Status.FAILED
    assert generation.error.startswith(
        "The provider kept failing while we worked on this job: Hugging Face Hub answered 503"
    )
    assert generation.error.endswith("Try again later.")
    assert generation.images.count() == 0
    assert generation.cost is None
