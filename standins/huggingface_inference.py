"""A local stand-in for Hugging Face Inference (the hf-inference text-to-image endpoint)."""

import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

from PIL import Image

TOKEN = "hf_standin"


class InferenceCall(NamedTuple):
    path: str
    headers: dict  # lower-case names
    json: dict | None


class InferenceStandIn(ThreadingHTTPServer):
    """Answers each POST with raw image bytes (PNG, the size asked for), or with the next queued
    fault: `fail_next(503)` (model loading), `fail_next(400, ...)`, `slow_next(seconds)`."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _InferenceHandler)
        self.requests: list[InferenceCall] = []
        # Per request, in order: (status, JSON body, seconds before answering); then images.
        self.answers: list[tuple[int, dict | None, float]] = []

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
        if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), str):
            return self._send(400, b'{"error": "inputs must be a prompt"}', "application/json")
        parameters = payload.get("parameters") or {}
        size = (parameters.get("width", 1024), parameters.get("height", 1024))
        buffer = io.BytesIO()
        shade = parameters.get("seed", 0) % 200
        Image.new("RGB", size, (shade, 90, 160)).save(buffer, "PNG")
        return self._send(200, buffer.getvalue(), "image/png")


def start_inference_standin() -> InferenceStandIn:
    server = InferenceStandIn()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
