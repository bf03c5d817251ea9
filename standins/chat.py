"""A local stand-in for an OpenAI-compatible chat endpoint serving a vision-language model
(POST /v1/chat/completions), as a dedicated Hugging Face endpoint or the router answers it."""

import base64
import io
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

from PIL import Image

TOKEN = "hf_standin"
DATA_URL = re.compile(r"^data:(image/[a-z]+);base64,(.+)$", re.DOTALL)

GOOD = {
    "caption": "A cup of espresso with latte art on a white saucer",
    "description": (
        "A small white cup of espresso topped with a leaf of latte art sits on a saucer. "
        "Soft window light falls from the left onto a wooden table."
    ),
    "aesthetic": (
        "close-up of a coffee cup with latte art on a wooden table, overhead three-quarter view, "
        "centred composition, natural window light, warm cosy mood, palette of cream, brown and white, "
        "shallow depth of field, editorial food photography"
    ),
    "tags": ["Espresso", "coffee", "latte art", "cup", "saucer", "coffee", "#cafe", "warm light"],
}


class ChatCall(NamedTuple):
    path: str
    headers: dict  # lower-case names
    json: dict | None
    image: tuple[str, tuple[int, int]] | None  # (MIME type, size) of the attached data-URL image


class Answer(NamedTuple):
    status: int
    content: str | None  # the assistant's text, for a 200
    body: dict | None  # the JSON error body, otherwise
    headers: dict
    delay: float


class ChatStandIn(ThreadingHTTPServer):
    """Answers each chat completion with the next scripted answer, then with GOOD as JSON.

    `answer_next(text)` (any text: JSON, fenced, prose), `fail_next(status, headers=...)`,
    `slow_next(seconds)` (a good answer, late). Every request is recorded, with its decoded image.
    """

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _ChatHandler)
        self.requests: list[ChatCall] = []
        self.answers: list[Answer] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def answer_next(self, content: str | dict) -> None:
        text = content if isinstance(content, str) else json.dumps(content)
        self.answers.append(Answer(200, text, None, {}, 0.0))

    def fail_next(self, status: int, body: dict | None = None, headers: dict | None = None) -> None:
        body = body or {"error": {"message": f"stand-in fault {status}", "type": "stand_in", "code": status}}
        self.answers.append(Answer(status, None, body, headers or {}, 0.0))

    def slow_next(self, seconds: float) -> None:
        self.answers.append(Answer(200, json.dumps(GOOD), None, {}, seconds))

    def next_answer(self) -> Answer:
        with self._lock:
            return self.answers.pop(0) if self.answers else Answer(200, json.dumps(GOOD), None, {}, 0.0)

    def handle_error(self, request, client_address):
        pass  # a client that timed out and hung up is what a slow answer is for


def _attached_image(payload) -> tuple[str, tuple[int, int]] | None:
    """The first data-URL image of the user's message, decoded (None when there is none)."""
    try:
        for message in payload["messages"]:
            for part in message["content"] if isinstance(message["content"], list) else []:
                if part.get("type") == "image_url":
                    match = DATA_URL.match(part["image_url"]["url"])
                    if match:
                        with Image.open(io.BytesIO(base64.b64decode(match.group(2)))) as image:
                            return match.group(1), image.size
    except (KeyError, TypeError, ValueError, OSError):
        return None
    return None


class _ChatHandler(BaseHTTPRequestHandler):
    server: ChatStandIn

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        image = _attached_image(payload)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.requests.append(ChatCall(self.path, headers, payload, image))
        if self.path != "/v1/chat/completions":
            return self._send(404, {"error": {"message": f"no route {self.path}"}})
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, {"error": {"message": "Invalid credentials in Authorization header"}})
        if not isinstance(payload, dict) or not payload.get("model") or not isinstance(payload.get("messages"), list):
            return self._send(400, {"error": {"message": "model and messages are required"}})
        answer = self.server.next_answer()
        time.sleep(answer.delay)
        if answer.status != 200:
            return self._send(answer.status, answer.body, answer.headers)
        return self._send(
            200,
            {
                "id": f"chatcmpl-standin-{len(self.server.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": payload["model"],
                "system_fingerprint": "stand-in",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer.content},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1200, "completion_tokens": 180, "total_tokens": 1380},
            },
        )


def start_chat_standin() -> ChatStandIn:
    server = ChatStandIn()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server
