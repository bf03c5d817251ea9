"""The Hugging Face Hub: the only module that imports huggingface_hub (publishing LoRAs,
base-model images from Inference, image descriptions from a vision-language model, text
embeddings for the library's search, and prompts translated to English by an instruction model)."""

import base64
import io
import json

import httpx2
import numpy as np
from django.conf import settings
from huggingface_hub import CommitOperationAdd, HfApi, InferenceClient
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError

from core import failures
from core.exceptions import PermanentProviderError, TransientProviderError
from core.formats import PIL_FORMATS

TRANSIENT_STATUSES = {408, 429, 500, 502, 503, 504}


def _api() -> HfApi:
    return HfApi(endpoint=settings.HF_ENDPOINT, token=settings.HF_TOKEN, library_name="photoagent")


def _mapped(exc: Exception) -> Exception:
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else None
        message = f"Hugging Face Hub answered {status}: {exc}"[:500]
        if status in TRANSIENT_STATUSES:
            return TransientProviderError(message, status_code=status)
        return PermanentProviderError(message, status_code=status, kind=failures.classify(str(exc), status_code=status))
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
    pil_format = PIL_FORMATS[image_format]
    image.convert("RGB").save(buffer, pil_format, quality=90)
    return buffer.getvalue()


# Describing images with a vision-language model (the photo library)
# ------------------------------------------------------------------------------


def _vlm_client() -> InferenceClient:
    """An OpenAI-compatible base URL when one is set (a dedicated endpoint, or the tests' stand-in);
    otherwise the model id through the Hugging Face router, which picks a provider server-side
    (huggingface_hub 2.x: provider "auto" + a chat task posts to router.huggingface.co/v1/chat/completions
    with no Hub lookup)."""
    token = settings.HF_TOKEN or None
    if settings.HF_VLM_BASE_URL:
        return InferenceClient(base_url=settings.HF_VLM_BASE_URL, api_key=token, timeout=settings.HF_VLM_TIMEOUT)
    return InferenceClient(model=settings.HF_VLM_MODEL, provider="auto", api_key=token, timeout=settings.HF_VLM_TIMEOUT)


def _inference_error(exc: HfHubHTTPError, *, what: str) -> Exception:
    status = exc.response.status_code if exc.response is not None else None
    detail = " ".join(str(exc).split())
    message = f"{what} answered {status}: {detail}"[:500]
    if status in TRANSIENT_STATUSES:
        return TransientProviderError(message, status_code=status)
    return PermanentProviderError(message, status_code=status, kind=failures.classify(detail, status_code=status))


def _vlm_error(exc: HfHubHTTPError) -> Exception:
    return _inference_error(exc, what="The vision model")


def describe_image(*, jpeg: bytes, instructions: str, schema: dict | None = None, max_tokens: int = 800) -> str:
    """Ask the vision-language model (settings.HF_VLM_MODEL) about one JPEG; returns its text answer.

    The image goes inline as a data URL. With `schema`, the answer is constrained to JSON of that
    shape where the server supports it (the client sends it as `json_schema` to the router and as a
    TGI-style `json_object` grammar to a base URL); the caller still checks what comes back.
    An answer with no text returns "" (the caller decides whether to ask again).
    Raises TransientProviderError (429, 5xx, timeouts, no connection) or PermanentProviderError.
    """
    data_url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": data_url}},
                {"type": "text", "text": instructions},
            ],
        }
    ]
    response_format = (
        {"type": "json_schema", "json_schema": {"name": "image_description", "schema": schema, "strict": True}}
        if schema
        else None
    )
    try:
        try:
            reply = _vlm_client().chat_completion(
                messages=messages,
                model=settings.HF_VLM_MODEL,
                max_tokens=max_tokens,
                temperature=0.2,
                # The client sends the plain dict as it is; its types name only its own dataclasses.
                response_format=response_format,  # type: ignore[arg-type]
            )
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if response_format is None or status not in (400, 422):
                raise
            # Some providers refuse structured output for vision models: ask in plain text instead
            # (the instructions already describe the JSON; the caller parses defensively).
            reply = _vlm_client().chat_completion(
                messages=messages, model=settings.HF_VLM_MODEL, max_tokens=max_tokens, temperature=0.2
            )
    except InferenceTimeoutError as exc:
        raise TransientProviderError(f"The vision model did not answer within {settings.HF_VLM_TIMEOUT:g} s") from exc
    except HfHubHTTPError as exc:
        raise _vlm_error(exc) from exc
    except httpx2.TransportError as exc:
        raise TransientProviderError(f"The vision model is unreachable: {exc}") from exc
    except (
        json.JSONDecodeError,
        UnicodeDecodeError,
    ):  # a 200 whose body is not JSON (a proxy's page, a cut-off answer)
        return ""
    except ValueError as exc:  # no token, or a token the router cannot use: settings, not the image
        raise PermanentProviderError(f"The vision model is not usable with these settings: {exc}") from exc
    try:
        content = reply.choices[0].message.content
    except (AttributeError, IndexError, KeyError, TypeError):
        return ""
    return content if isinstance(content, str) else ""


# Text embeddings (the photo library's search, when LIBRARY_EMBEDDING_BACKEND names Hugging Face)
# ------------------------------------------------------------------------------


def embed_texts(*, texts: list[str], prompt_name: str | None = None) -> np.ndarray:
    """(len(texts), d) float32 unit vectors from settings.HF_EMBEDDING_URL's feature-extraction
    endpoint (HF Inference's pipeline URL for settings.HF_EMBEDDING_MODEL, or a dedicated
    text-embeddings-inference endpoint): one request for the batch, posted to the URL directly
    with no Hub lookup. `prompt_name` picks one of the model's sentence-transformers prompts
    ("query" for Qwen3-Embedding's search instruction).

    Raises TransientProviderError (429, 5xx, timeouts, no connection, a cut-off answer) or
    PermanentProviderError (credentials, a model that is not an embedding model, wrong settings).
    """
    client = InferenceClient(
        model=settings.HF_EMBEDDING_URL, token=settings.HF_TOKEN or None, timeout=settings.HF_EMBEDDING_TIMEOUT
    )
    try:
        vectors = client.feature_extraction(texts, normalize=True, truncate=True, prompt_name=prompt_name)
    except InferenceTimeoutError as exc:
        raise TransientProviderError(
            f"The embedding model did not answer within {settings.HF_EMBEDDING_TIMEOUT:g} s"
        ) from exc
    except HfHubHTTPError as exc:
        raise _inference_error(exc, what="The embedding model") from exc
    except httpx2.TransportError as exc:
        raise TransientProviderError(f"The embedding model is unreachable: {exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # a 200 that is not JSON (a proxy's page)
        raise TransientProviderError(f"The embedding model's answer could not be read: {exc}") from exc
    except (ValueError, TypeError) as exc:  # JSON that is not a matrix of numbers (an error object, ragged rows)
        raise PermanentProviderError(f"The embedding model's answer is not a list of vectors: {exc}") from exc
    if vectors.ndim != 2 or vectors.shape[0] != len(texts) or not vectors.shape[1]:
        raise PermanentProviderError(
            f"The embedding model answered an array of shape {vectors.shape} for {len(texts)} texts; "
            "is HF_EMBEDDING_MODEL a sentence-embedding model?"
        )
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-9, None)).astype(np.float32)


# Translating prompts to English (generation, when PROMPT_TRANSLATION_BACKEND names Hugging Face)
# ------------------------------------------------------------------------------


def _translation_client() -> InferenceClient:
    """Like `_vlm_client`: an OpenAI-compatible base URL when one is set, else the router."""
    token = settings.HF_TOKEN or None
    timeout = settings.HF_TRANSLATION_TIMEOUT
    if settings.HF_TRANSLATION_BASE_URL:
        return InferenceClient(base_url=settings.HF_TRANSLATION_BASE_URL, api_key=token, timeout=timeout)
    return InferenceClient(model=settings.HF_TRANSLATION_MODEL, provider="auto", api_key=token, timeout=timeout)


def translate_to_english(*, text: str, instructions: str, max_tokens: int) -> str:
    """Ask the instruction model (settings.HF_TRANSLATION_MODEL) for the English of `text`, with
    `instructions` as the system message, at temperature 0; returns its answer as it is.

    Raises TransientProviderError (429, 5xx, timeouts, no connection, an answer that is not JSON)
    or PermanentProviderError (credentials, a model the endpoint does not serve, wrong settings, an
    answer with no text or cut off at max_tokens: at temperature 0, asking again gives the same).
    """
    messages = [{"role": "system", "content": instructions}, {"role": "user", "content": text}]
    timeout = settings.HF_TRANSLATION_TIMEOUT
    try:
        reply = _translation_client().chat_completion(
            messages=messages, model=settings.HF_TRANSLATION_MODEL, max_tokens=max_tokens, temperature=0
        )
    except InferenceTimeoutError as exc:
        raise TransientProviderError(f"The translation model did not answer within {timeout:g} s") from exc
    except HfHubHTTPError as exc:
        raise _inference_error(exc, what="The translation model") from exc
    except httpx2.TransportError as exc:
        raise TransientProviderError(f"The translation model is unreachable: {exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # a 200 that is not JSON (a proxy's page)
        raise TransientProviderError(f"The translation model's answer could not be read: {exc}") from exc
    except ValueError as exc:  # no token, or a token the router cannot use: settings, not the prompt
        raise PermanentProviderError(f"The translation model is not usable with these settings: {exc}") from exc
    try:
        choice = reply.choices[0]
        content, finish_reason = choice.message.content, choice.finish_reason
    except (AttributeError, IndexError, KeyError, TypeError) as exc:
        raise PermanentProviderError("The translation model's answer has no message") from exc
    if not isinstance(content, str) or not content.strip():
        raise PermanentProviderError("The translation model answered with no text")
    if finish_reason == "length":
        raise PermanentProviderError(f"The translation model's answer was cut off at {max_tokens} tokens")
    return content
