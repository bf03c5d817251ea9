"""A local stand-in for an OpenAI-compatible chat endpoint (POST /v1/chat/completions), as a
dedicated Hugging Face endpoint or the router answers it: a vision-language model describing an
image, and an instruction model translating a prompt to English (a request that starts with a
system message)."""

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


# What the translation model answers, by the user's text between <text> and </text> (markers ⟦n⟧
# kept where they belong); a prompt it does not know comes back as "[translated] <the prompt>", so a
# test can never pass by sending the typed prompt unchanged.
TRANSLATIONS = {
    "un retrato de ⟦0⟧ en la playa al atardecer": "a portrait of ⟦0⟧ on the beach at sunset",
    "una taza de café sobre una mesa de madera": "a cup of coffee on a wooden table",
    "un cartel de neón que dice ⟦0⟧ sobre la puerta de un bar": "a neon sign that says ⟦0⟧ above the door of a bar",
    "⟦0⟧ con una chaqueta de cuero en una calle de Madrid de noche": (
        "⟦0⟧ in a leather jacket on a Madrid street at night"
    ),
    "un gato durmiendo junto a la ventana, luz de la mañana": "a cat sleeping by the window, morning light",
    "ein Porträt von ⟦0⟧ am Strand bei Sonnenuntergang": "a portrait of ⟦0⟧ on the beach at sunset",
    "eine Tasse Kaffee auf einem Holztisch": "a cup of coffee on a wooden table",
    "ein Schild mit der Aufschrift ⟦0⟧ über der Tür": "a sign reading ⟦0⟧ above the door",
    "un portrait de ⟦0⟧ sur la plage au coucher du soleil": "a portrait of ⟦0⟧ on the beach at sunset",
    "une tasse de café sur une table en bois": "a cup of coffee on a wooden table",
    "une affiche ⟦0⟧ dans une rue de Paris la nuit": "a ⟦0⟧ poster on a Paris street at night",
}


UNKNOWN = "[translated] {}"
# Answers of a model that talked instead of translating (chatty_next's default).
CHATTY = "Sure! Here is the English translation:\n\n{}"
# What long_next adds to the usual translation: an answer longer than the prompt allowed.
LONGER = ", rendered in rich and exquisite detail with soft volumetric light and a shallow depth of field"
DELIMITED = re.compile(r"^<text>(.*)</text>$", re.DOTALL)


def translate(text: str) -> str:
    tidy = " ".join(text.split())
    return TRANSLATIONS.get(tidy, UNKNOWN.format(tidy))


class ChatCall(NamedTuple):
    path: str
    headers: dict  # lower-case names
    json: dict | None
    image: tuple[str, tuple[int, int]] | None  # (MIME type, size) of the attached data-URL image


class Answer(NamedTuple):
    status: int
    content: str | None  # the assistant's text, for a 200 (None: the usual answer to the request)
    body: dict | None  # the JSON error body, otherwise
    headers: dict
    delay: float
    drop_marker: bool = False  # the usual translation, without its first marker ⟦n⟧
    template: str = "{}"  # the usual translation put in this (a chatty answer, a longer one)


class ChatStandIn(ThreadingHTTPServer):
    """Answers each chat completion with the next scripted answer, then with the usual one: GOOD as
    JSON for an image, the TRANSLATIONS entry of a prompt to translate.

    `answer_next(text)` (any text: JSON, fenced, prose), `fail_next(status, headers=...)`,
    `slow_next(seconds)` (the usual answer, late), `drop_marker_next()` (a translation that loses
    a marker), `chatty_next(template)` (the usual translation wrapped in chat: "Sure! Here is…"),
    `long_next(extra)` (the usual translation with `extra` added, longer than the prompt).
    Every request is recorded, with its decoded image.
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
        self.answers.append(Answer(200, None, None, {}, seconds))

    def drop_marker_next(self) -> None:
        self.answers.append(Answer(200, None, None, {}, 0.0, drop_marker=True))

    def chatty_next(self, template: str = CHATTY) -> None:
        self.answers.append(Answer(200, None, None, {}, 0.0, template=template))

    def long_next(self, extra: str = LONGER) -> None:
        self.answers.append(
            Answer(200, None, None, {}, 0.0, template="{}" + extra.replace("{", "{{").replace("}", "}}"))
        )

    def next_answer(self) -> Answer:
        with self._lock:
            return self.answers.pop(0) if self.answers else Answer(200, None, None, {}, 0.0)

    def translation_requests(self) -> list[ChatCall]:
        return [call for call in self.requests if _translation_text(call.json) is not None]

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


def _translation_text(payload) -> str | None:
    """The text of a translation request (a system message, then the user's text between <text>
    and </text>, returned without them), else None."""
    try:
        system, user = payload["messages"][:2]
        if system["role"] == "system" and user["role"] == "user" and isinstance(user["content"], str):
            delimited = DELIMITED.match(user["content"].strip())
            return delimited.group(1) if delimited else user["content"]
    except (KeyError, TypeError, ValueError):
        return None
    return None


def _usual_content(payload, *, drop_marker: bool, template: str = "{}") -> str:
    text = _translation_text(payload)
    if text is None:
        return json.dumps(GOOD)
    english = translate(text)
    english = re.sub(r"\s*⟦\d+⟧", "", english, count=1) if drop_marker else english
    return template.format(english)


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
        content = answer.content
        if content is None:
            content = _usual_content(payload, drop_marker=answer.drop_marker, template=answer.template)
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
                        "message": {"role": "assistant", "content": content},
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
