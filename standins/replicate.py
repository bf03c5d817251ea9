"""A local stand-in that speaks Replicate's HTTP API (trainings, predictions, models, webhooks' signatures),
for the real replicate client in tests, bench/, fuzz/ and contract/."""

import base64
import hashlib
import hmac
import io
import json
import re
import tarfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple
from urllib.parse import parse_qs

from PIL import Image

from core.formats import PIL_FORMATS
from training.backends.demo import simulated_safetensors

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"stand-in webhook signing key!!").decode()
# The version flux-dev-lora reports: a 64-hex id (the spec flags the real API's "hidden").
FLUX_DEV_LORA_VERSION = "3801e1cc99d3a8cb01acfe564afc1ddec782e0f8248ab965906096f76c2bf3c4"
# black-forest-labs/flux-dev-lora's input schema (cog-flux DevLoraPredictor), enough to refuse
# what the real model would refuse with a 422.
FLUX_DEV_LORA_INPUTS = {
    "prompt": str,
    "aspect_ratio": ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"),
    "image": str,
    "prompt_strength": (0, 1),
    "num_outputs": (1, 4),
    "num_inference_steps": (1, 50),
    "guidance": (0, 10),
    "seed": int,
    "output_format": ("webp", "jpg", "png"),
    "output_quality": (0, 100),
    "disable_safety_checker": bool,
    "go_fast": bool,
    "lora_weights": str,
    "lora_scale": (-1, 3),
    "extra_lora": str,
    "extra_lora_scale": (-1, 3),
    "megapixels": ("1", "0.25"),
    "hf_api_token": str,
    "civitai_api_token": str,
}


class Call(NamedTuple):
    method: str
    path: str
    body: dict | None
    headers: dict  # lower-case names


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def output_image(index: int, image_format: str = "webp", size: tuple[int, int] = (64, 64)) -> bytes:
    """A small real image, a different colour per output."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (40 + 50 * index, 120, 200 - 40 * index)).save(buffer, PIL_FORMATS[image_format])
    return buffer.getvalue()


def input_problems(data: dict) -> list[str]:
    """What flux-dev-lora would refuse in this input, in Replicate's 422 wording."""
    problems = [] if isinstance(data.get("prompt"), str) else ["input: prompt is required"]
    for name, value in data.items():
        rule = FLUX_DEV_LORA_INPUTS.get(name)
        if rule is None:
            problems.append(f"input: Additional property {name} is not allowed")
        elif isinstance(rule, type):
            if not isinstance(value, rule) or (rule is int and isinstance(value, bool)):
                problems.append(f"input.{name}: Invalid type. Expected: {rule.__name__}")
        elif isinstance(rule[0], str):
            if value not in rule:
                problems.append(f"input.{name}: {name} must be one of the following: {', '.join(rule)}")
        elif isinstance(value, bool) or not isinstance(value, int | float) or not rule[0] <= value <= rule[1]:
            problems.append(f"input.{name}: Must be between {rule[0]} and {rule[1]}")
    return problems


def new_prediction(prediction_id: str, model: str, data: dict) -> dict:
    """A prediction as Replicate answers its creation: starting, nothing made yet."""
    api = f"https://api.replicate.com/v1/predictions/{prediction_id}"
    return {
        "id": prediction_id,
        "model": model,
        "version": FLUX_DEV_LORA_VERSION,
        "input": data,
        "output": None,
        "error": None,
        "logs": "",
        "data_removed": False,
        "status": "starting",
        "source": "api",
        "created_at": now_iso(),
        "urls": {"web": f"https://replicate.com/p/{prediction_id}", "get": api, "cancel": f"{api}/cancel"},
    }


def model_payload(name: str) -> dict:
    """A private destination model as Replicate describes it."""
    owner, model = name.split("/")
    return {
        "url": f"https://replicate.com/{name}",
        "owner": owner,
        "name": model,
        "visibility": "private",
        "run_count": 0,
        "description": None,
        "latest_version": None,
        "default_example": None,
    }


def lora_tar(lora: bytes | None = None, name: str = "lora.safetensors") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        content = simulated_safetensors() if lora is None else lora
        info = tarfile.TarInfo(f"output/flux_train_replicate/{name}")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def sign(body: bytes, *, webhook_id: str = "msg_1", timestamp: int | None = None, secret: str = WEBHOOK_SECRET) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "HTTP_WEBHOOK_ID": webhook_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(timestamp),
        "HTTP_WEBHOOK_SIGNATURE": f"v1,{base64.b64encode(digest).decode()}",
    }


class ReplicateStandIn(ThreadingHTTPServer):
    """Trainings, predictions, models, files and the webhook secret; faults and slow answers can
    be queued per route.

    New predictions answer `starting` (the `Prefer: wait` time ran out), or `succeeded` with
    their outputs when `finish_predictions` is set (the model finished within the wait). Output
    files are real images served at /outputs/..., without credentials, as replicate.delivery does.
    """

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[Call] = []
        self.models: set[str] = set()
        self.trainings: dict[str, dict] = {}
        self.weights: dict[str, bytes] = {}
        self.predictions: dict[str, dict] = {}
        self.outputs: dict[str, bytes] = {}  # path under /outputs/ -> bytes
        self.finish_predictions = False
        self.secret = WEBHOOK_SECRET  # what GET /v1/webhooks/default/secret answers: rotate by setting it
        self.faults: list[tuple[str, int, dict]] = []  # (route pattern, status, body)
        self.delays: list[tuple[str, float]] = []  # (route pattern, seconds before answering)
        self.page_size = 100  # items per page of GET /v1/trainings and /v1/predictions, as Replicate
        self._counter = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def fail_next(self, pattern: str, status: int, body: dict | None = None) -> None:
        self.faults.append((pattern, status, body or {"detail": f"stand-in fault {status}", "status": status}))

    def slow_next(self, pattern: str, seconds: float) -> None:
        """The next matching request is handled, but answered only after `seconds` (a timeout)."""
        self.delays.append((pattern, seconds))

    def handle_error(self, request, client_address):
        pass  # a client that timed out and hung up is what a slow answer is for

    # Predictions
    # --------------------------------------------------------------------------

    def create_prediction(self, model: str, body: dict) -> dict:
        self._counter += 1
        prediction_id = f"pr{self._counter}standin"
        prediction = new_prediction(prediction_id, model, body["input"])
        self.predictions[prediction_id] = prediction
        if self.finish_predictions:
            self.advance_prediction(prediction_id, "succeeded")
        return prediction

    def advance_prediction(
        self,
        prediction_id: str,
        status: str,
        *,
        error: str | None = None,
        logs: str = "",
        outputs: int | None = None,
        predict_time: float = 7.5,
    ) -> dict:
        """Move a prediction on; `succeeded` makes `outputs` images (default: num_outputs).

        Returns a copy: the body of a webhook for this moment.
        """
        prediction = self.predictions[prediction_id]
        prediction["status"] = status
        prediction["logs"] = logs
        if status != "aborted":  # aborted: ended before it started
            prediction.setdefault("started_at", now_iso())
        if status not in ("starting", "processing"):
            prediction["completed_at"] = now_iso()
            prediction["metrics"] = {"predict_time": predict_time, "total_time": predict_time + 0.5}
        if error is not None:
            prediction["error"] = error
        if status == "succeeded":
            sent = prediction["input"]
            image_format = sent.get("output_format", "webp")
            urls = []
            for index in range(sent.get("num_outputs", 1) if outputs is None else outputs):
                name = f"{prediction_id}/out-{index}.{image_format}"
                self.outputs[name] = output_image(index, image_format)
                urls.append(f"{self.url}/outputs/{name}")
            prediction["output"] = urls
        return json.loads(json.dumps(prediction))

    def remove_outputs(self, prediction_id: str, *, only: list[int] | None = None) -> None:
        """Replicate's clean-up an hour after the end: output null, data_removed, files gone.

        With `only`, just those output files disappear and the prediction still lists them.
        """
        prediction = self.predictions[prediction_id]
        for index, url in enumerate(prediction["output"] or []):
            if only is None or index in only:
                self.outputs.pop(url.split("/outputs/", 1)[1], None)
        if only is None:
            prediction.update(output=None, data_removed=True, input={})

    def prediction_creates(self) -> list[Call]:
        return self.created(r"^/v1/models/[^/]+/[^/]+/predictions$")

    def output_downloads(self) -> list[Call]:
        return [r for r in self.requests if r.method == "GET" and r.path.startswith("/outputs/")]

    def advance(
        self, training_id: str, status: str, *, logs: str = "", error: str | None = None, tar: bytes | None = None
    ):
        training = self.trainings[training_id]
        training["status"] = status
        training["logs"] = logs
        if error is not None:
            training["error"] = error
        if status == "succeeded":
            self.weights[training_id] = lora_tar() if tar is None else tar
            training["output"] = {
                "version": f"{training['destination']}:{'a' * 64}",
                "weights": f"{self.url}/weights/{training_id}.tar",
            }
            training["metrics"] = {"predict_time": 512.5}
        return training

    def created(self, path_pattern: str = "/trainings") -> list:
        return [r for r in self.requests if r[0] == "POST" and re.search(path_pattern, r[1])]


class _Handler(BaseHTTPRequestHandler):
    server: ReplicateStandIn

    def log_message(self, *args):
        pass

    def _body(self) -> dict | None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.headers.get("Content-Type", "").startswith("application/json") and raw:
            return json.loads(raw)
        return {"raw_size": len(raw)} if raw else None

    def _send(self, status: int, payload=None, content_type="application/json", raw: bytes | None = None):
        data = raw if raw is not None else json.dumps(payload).encode()
        time.sleep(getattr(self, "delay", 0.0))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str):
        body = self._body()
        path = self.path.split("?", 1)[0]
        self.server.requests.append(Call(method, path, body, {k.lower(): v for k, v in self.headers.items()}))
        self.delay = 0.0
        for index, (pattern, seconds) in enumerate(self.server.delays):
            if re.search(pattern, f"{method} {path}"):
                del self.server.delays[index]
                self.delay = seconds
                break
        public = path.startswith(("/weights/", "/outputs/"))
        if self.headers.get("Authorization") != "Bearer r8_standin" and not public:
            return self._send(
                401, {"title": "Unauthenticated", "detail": "You did not pass a valid token", "status": 401}
            )
        for index, (pattern, status, fault) in enumerate(self.server.faults):
            if re.search(pattern, f"{method} {path}"):
                del self.server.faults[index]
                return self._send(status, fault, "application/problem+json")
        handler = getattr(self, f"_{method.lower()}", None)
        return handler(path, body) if handler else self._send(405, {"detail": "no"})

    def do_GET(self):  # noqa: N802
        self._route("GET")

    def do_POST(self):  # noqa: N802
        self._route("POST")

    def _get(self, path: str, body):
        server = self.server
        if match := re.fullmatch(r"/v1/models/([^/]+/[^/]+)", path):
            name = match.group(1)
            return (
                self._send(200, model_payload(name))
                if name in server.models
                else self._send(404, {"detail": "Not found", "status": 404})
            )
        if match := re.fullmatch(r"/v1/trainings/([\w-]+)", path):
            training = server.trainings.get(match.group(1))
            return self._send(200, training) if training else self._send(404, {"detail": "Not found", "status": 404})
        if path == "/v1/trainings":
            return self._send(200, self._page(path, list(server.trainings.values())[::-1]))
        if path == "/v1/webhooks/default/secret":
            return self._send(200, {"key": server.secret})
        if match := re.fullmatch(r"/weights/([\w-]+)\.tar", path):
            if match.group(1) not in server.weights:
                return self._send(404, raw=b"Not found", content_type="text/plain")
            return self._send(200, raw=server.weights[match.group(1)], content_type="application/x-tar")
        if match := re.fullmatch(r"/v1/predictions/([\w-]+)", path):
            prediction = server.predictions.get(match.group(1))
            return (
                self._send(200, prediction) if prediction else self._send(404, {"detail": "Not found", "status": 404})
            )
        if path == "/v1/predictions":
            return self._send(200, self._page(path, list(server.predictions.values())[::-1]))
        if match := re.fullmatch(r"/outputs/([\w-]+/out-\d+\.(webp|jpg|png))", path):
            content = server.outputs.get(match.group(1))
            if content is None:
                return self._send(404, raw=b"Not found", content_type="text/plain")
            return self._send(200, raw=content, content_type=f"image/{match.group(2).replace('jpg', 'jpeg')}")
        return self._send(404, {"detail": "Not found", "status": 404})

    def _page(self, path: str, newest_first: list) -> dict:
        """One page of a list, as Replicate pages: `next` (an absolute URL with a cursor) or null."""
        query = parse_qs(self.path.partition("?")[2])
        start = int(query.get("cursor", ["0"])[0])
        end = start + self.server.page_size
        following = f"{self.server.url}{path}?cursor={end}" if end < len(newest_first) else None
        previous = f"{self.server.url}{path}?cursor={max(0, start - self.server.page_size)}" if start else None
        return {"next": following, "previous": previous, "results": newest_first[start:end]}

    def _create_prediction(self, model: str, body):
        problems = []
        wait = self.headers.get("Prefer")
        if wait is not None and not re.fullmatch(r"wait(=([1-9]|[1-5][0-9]|60))?", wait):
            problems.append(f"Prefer: {wait!r} is not wait or wait=1..60")
        deadline = self.headers.get("Cancel-After")
        if deadline is not None and not re.fullmatch(r"\d+|(?=\d)(\d+h)?(\d+m)?(\d+s)?", deadline):
            problems.append(f"Cancel-After: {deadline!r} is not a duration such as 30s, 5m or 1h30m")
        if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
            problems.append("input is required")
        else:
            extra = set(body) - {"input", "webhook", "webhook_events_filter", "stream"}
            problems += [f"Additional property {name} is not allowed" for name in sorted(extra)]
            problems += input_problems(body["input"])
            if "webhook" in body and not str(body["webhook"]).startswith("https://"):
                problems.append("webhook must be an HTTPS URL")
            if not set(body.get("webhook_events_filter", [])) <= {"start", "output", "logs", "completed"}:
                problems.append("webhook_events_filter: unknown event")
        if problems:
            detail = "".join(f"- {problem}\n" for problem in problems)
            return self._send(422, {"title": "Input validation failed", "detail": detail, "status": 422})
        return self._send(201, self.server.create_prediction(model, body))

    def _post(self, path: str, body):
        server = self.server
        if path == "/v1/models":
            name = f"{body['owner']}/{body['name']}"
            server.models.add(name)
            return self._send(201, model_payload(name))
        if path == "/v1/files":
            server._counter += 1
            file_id = f"file{server._counter}"
            return self._send(
                201,
                {
                    "id": file_id,
                    "name": "dataset.zip",
                    "content_type": "application/zip",
                    "size": body["raw_size"],
                    "etag": "x",
                    "checksums": {},
                    "metadata": {},
                    "created_at": "2026-11-21T00:00:00Z",
                    "expires_at": "2026-11-22T00:00:00Z",
                    "urls": {"get": f"https://api.replicate.com/v1/files/{file_id}"},
                },
            )
        if match := re.fullmatch(r"/v1/models/([^/]+/[^/]+)/versions/(\w+)/trainings", path):
            if body["destination"] not in server.models:
                return self._send(404, {"detail": "The specified training destination does not exist", "status": 404})
            server._counter += 1
            training_id = f"tr{server._counter}"
            training = {
                "id": training_id,
                "model": match.group(1),
                "version": match.group(2),
                "status": "starting",
                "input": body["input"],
                "logs": "",
                "error": None,
                "created_at": now_iso(),
                "destination": body["destination"],
                "source": "api",
                "urls": {
                    "get": f"https://api.replicate.com/v1/trainings/{training_id}",
                    "cancel": f"https://api.replicate.com/v1/trainings/{training_id}/cancel",
                },
            }
            server.trainings[training_id] = training
            return self._send(201, training)
        if match := re.fullmatch(r"/v1/trainings/([\w-]+)/cancel", path):
            training = server.trainings[match.group(1)]
            training["status"] = "canceled"
            return self._send(200, training)
        if match := re.fullmatch(r"/v1/models/([^/]+/[^/]+)/predictions", path):
            return self._create_prediction(match.group(1), body)
        if match := re.fullmatch(r"/v1/predictions/([\w-]+)/cancel", path):
            prediction = server.predictions.get(match.group(1))
            if prediction is None:
                return self._send(404, {"detail": "Not found", "status": 404})
            if prediction["status"] in ("starting", "processing"):
                server.advance_prediction(prediction["id"], "canceled")
            return self._send(200, prediction)
        return self._send(404, {"detail": "Not found", "status": 404})


def start_replicate_standin() -> ReplicateStandIn:
    server = ReplicateStandIn()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
