"""The Hugging Face Hub: the only module that imports huggingface_hub (publishing LoRAs, and
base-model images from Inference)."""

import io

import httpx2
from django.conf import settings
from huggingface_hub import CommitOperationAdd, HfApi, InferenceClient
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError

from core.exceptions import PermanentProviderError, TransientProviderError

TRANSIENT_STATUSES = {408, 429, 500, 502, 503, 504}


def _api() -> HfApi:
    return HfApi(endpoint=settings.HF_ENDPOINT, token=settings.HF_TOKEN, library_name="photoagent")


def _mapped(exc: Exception) -> Exception:
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else None
        error_class = TransientProviderError if status in TRANSIENT_STATUSES else PermanentProviderError
        return error_class(f"Hugging Face Hub answered {status}: {exc}"[:500], status_code=status)
    return TransientProviderError(f"Hugging Face Hub unreachable: {exc}")


def publish_lora(*, repo_id: str, lora, model_card: str, run_marker: str) -> tuple[str, str]:
    """Upload the LoRA and its model card to a private repo; returns (repo id, commit sha).

    Idempotent: a commit already carrying `run_marker` in its title is reused, so a retried
    task never makes a second commit.
    """
    api = _api()
    title = f"PhotoAgent LoRA ({run_marker})"
    try:
        url = api.create_repo(repo_id, private=True, exist_ok=True, repo_type="model")
        repo_id = url.repo_id
        for commit in api.list_repo_commits(repo_id):
            if commit.title == title:
                return repo_id, commit.commit_id
        info = api.create_commit(
            repo_id,
            operations=[
                CommitOperationAdd(path_in_repo="lora.safetensors", path_or_fileobj=lora),
                CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=model_card.encode()),
            ],
            commit_message=title,
        )
    except (HfHubHTTPError, httpx2.TransportError, OSError) as exc:
        raise _mapped(exc) from exc
    return repo_id, info.oid


def lora_download_url(*, repo_id: str) -> str:
    return f"{settings.HF_ENDPOINT}/{repo_id}/resolve/main/lora.safetensors"


def text_to_image(
    *, prompt: str, width: int, height: int, steps: int, guidance: float, seed: int, image_format: str
) -> bytes:
    """One FLUX.1-dev image from Hugging Face Inference, encoded in image_format (webp, jpg or png).

    The model is given as its endpoint URL, so the client posts to it directly with no Hub lookup.
    """
    client = InferenceClient(
        model=settings.HF_INFERENCE_URL, token=settings.HF_TOKEN, timeout=settings.HF_INFERENCE_TIMEOUT
    )
    try:
        image = client.text_to_image(
            prompt, width=width, height=height, num_inference_steps=steps, guidance_scale=guidance, seed=seed
        )
    except InferenceTimeoutError as exc:
        raise TransientProviderError(f"Hugging Face Inference timed out: {exc}") from exc
    except (HfHubHTTPError, httpx2.TransportError) as exc:
        raise _mapped(exc) from exc
    except OSError as exc:  # the answer was not an image
        raise PermanentProviderError(f"Hugging Face Inference returned no image: {exc}") from exc
    buffer = io.BytesIO()
    pil_format = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[image_format]
    image.convert("RGB").save(buffer, pil_format, quality=90)
    return buffer.getvalue()
