"""A local stand-in for Hugging Face Inference: the hf-inference text-to-image endpoint, and the
feature-extraction pipeline (`/hf-inference/models/<model>/pipeline/feature-extraction`) as
InferenceClient.feature_extraction calls it and text-embeddings-inference answers it."""

import io
import json
import re
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

import numpy as np
from PIL import Image

TOKEN = "hf_standin"


class InferenceCall(NamedTuple):
    path: str
    headers: dict  # lower-case names
    json: dict | None


class InferenceStandIn(ThreadingHTTPServer):
    """Answers each POST with raw image bytes (PNG, the size asked for), or, on the feature-extraction
    pipeline, with one unit vector per input text; or with the next queued fault: `fail_next(503)`
    (model loading), `fail_next(400, ...)`, `slow_next(seconds)`, `answer_next(body)` (a 200 with
    that raw body).

    The vectors are bags of words: each word has its own random direction, so texts sharing words
    are close and others are not (no meaning across languages). Batches over `max_batch` texts are
    refused with 413, as text-embeddings-inference does."""

    def __init__(self, dimensions: int = 48, max_batch: int = 32):
        super().__init__(("127.0.0.1", 0), _InferenceHandler)
        self.requests: list[InferenceCall] = []
        # Per request, in order: (status, JSON body or raw bytes, seconds before answering); then answers.
        self.answers: list[tuple[int, dict | bytes | None, float]] = []
        self.dimensions = dimensions
        self.max_batch = max_batch

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def model_url(self, model: str = "black-forest-labs/FLUX.1-dev") -> str:
        return f"{self.url}/hf-inference/models/{model}"

    def succeed_next(self) -> None:
        self.answers.append((200, None, 0.0))

    def fail_next(self, status: int, body: dict | None = None) -> None:
        self.answers.append((status, body or {"error": f"stand-in fault {status}"}, 0.0))

    def slow_next(self, seconds: float) -> None:
        self.answers.append((200, None, seconds))

    def answer_next(self, body: bytes) -> None:
        self.answers.append((200, body, 0.0))

    def embedding_url(self, model: str = "Qwen/Qwen3-Embedding-0.6B") -> str:
        return f"{self.url}/hf-inference/models/{model}/pipeline/feature-extraction"

    def vector(self, text: str) -> np.ndarray:
        total = np.zeros(self.dimensions)
        for word in re.findall(r"\w+", text.lower()):
            total += np.random.default_rng(zlib.crc32(word.encode())).standard_normal(self.dimensions)
        return total

    def seeds(self) -> list[int]:
        return [call.json["parameters"]["seed"] for call in self.requests]

    def handle_error(self, request, client_address):
        pass  # a client that timed out and hung up is what a slow answer is for


class _InferenceHandler(BaseHTTPRequestHandler):
    server: InferenceStandIn

    def log_message(self, *args):
        pass

    def _send(self, status: int, data: bytes, content_type: str):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        payload = json.loads(raw) if raw else None
        self.server.requests.append(InferenceCall(self.path, {k.lower(): v for k, v in self.headers.items()}, payload))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, b'{"error": "Invalid credentials in Authorization header"}', "application/json")
        status, body, delay = self.server.answers.pop(0) if self.server.answers else (200, None, 0.0)
        time.sleep(delay)
        if status != 200:
            return self._send(status, json.dumps(body).encode(), "application/json")
        if isinstance(body, bytes):
            return self._send(200, body, "application/json")
        if self.path.endswith("/pipeline/feature-extraction"):
            return self._embed(payload)
        if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), str):
            return self._send(400, b'{"error": "inputs must be a prompt"}', "application/json")
        parameters = payload.get("parameters") or {}
        size = (parameters.get("width", 1024), parameters.get("height", 1024))
        buffer = io.BytesIO()
        shade = parameters.get("seed", 0) % 200
        Image.new("RGB", size, (shade, 90, 160)).save(buffer, "PNG")
        return self._send(200, buffer.getvalue(), "image/png")

    def _embed(self, payload):
        # The feature-extraction input spec: {"inputs": str | [str], "normalize", "truncate",
        # "prompt_name", "truncation_direction"} at the root; the answer is one vector per text.
        inputs = payload.get("inputs") if isinstance(payload, dict) else None
        texts = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(texts, list) or not texts or not all(isinstance(text, str) and text for text in texts):
            return self._send(
                422,
                b'{"error": "inputs must be a non-empty string or list of them", "error_type": "Validation"}',
                "application/json",
            )
        if len(texts) > self.server.max_batch:
            error = {
                "error": f"batch size {len(texts)} > maximum allowed batch size {self.server.max_batch}",
                "error_type": "Validation",
            }
            return self._send(413, json.dumps(error).encode(), "application/json")
        vectors = [self.server.vector(text) for text in texts]
        if payload.get("normalize", True):
            vectors = [vector / max(float(np.linalg.norm(vector)), 1e-9) for vector in vectors]
        return self._send(200, json.dumps([vector.tolist() for vector in vectors]).encode(), "application/json")


def start_inference_standin(**options) -> InferenceStandIn:
    server = InferenceStandIn(**options)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextmanager
def serving_embeddings(settings, **options) -> Iterator[InferenceStandIn]:
    """A running stand-in with the library's Hugging Face embedding backend pointed at its
    feature-extraction pipeline (pytest-django's `settings` restores the settings afterwards)."""
    server = start_inference_standin(**options)
    settings.LIBRARY_EMBEDDING_BACKEND = "library.backends.embedders.HuggingFaceEmbeddingBackend"
    settings.HF_TOKEN = TOKEN
    settings.HF_EMBEDDING_MODEL = "Qwen/Qwen3-Embedding-0.6B"
    settings.HF_EMBEDDING_URL = server.embedding_url()
    settings.HF_EMBEDDING_TIMEOUT = 1.0
    settings.HF_EMBEDDING_DIMENSIONS = 0
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
