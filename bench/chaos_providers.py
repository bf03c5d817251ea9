"""Stand-ins for Replicate, the Hugging Face Hub and SendGrid that misbehave on purpose.

Each speaks enough of the real HTTP API for the real client libraries, keeps its own log of what it
did (trainings and predictions created, Hub commits, mails accepted), and, at `rate`, answers with a
fault: 429, 500 or 503 (the request was not processed), or a timeout (the answer comes after the
client gave up; a create was processed all the same, as happens when a reply is lost). Trainings
and predictions move on by themselves, each to an outcome drawn when it is created (succeeded,
failed or aborted), and their webhooks are signed and sent to the app: some lost, some sent twice,
some late, so that they also arrive out of order.

SendGrid timeouts are modelled as failures before SendGrid accepted the mail: its API has no
idempotency key, so after a timeout that came after acceptance no client can avoid a second mail.
"""

import base64
import hashlib
import io
import itertools
import json
import random
import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standins.hub import HubStandIn, _HubHandler
from standins.replicate import (
    WEBHOOK_SECRET,
    lora_tar,
    model_payload,
    new_prediction,
    now_iso,
    output_image,
    sign,
)

REPLICATE_TOKEN = "r8_standin"
HUB_TOKEN = "hf_standin"
SENDGRID_KEY = "SG.chaos-standin"
HTTP_FAULTS = ("429", "500", "503", "timeout")
TERMINAL = ("succeeded", "failed", "canceled", "aborted")


class Faults:
    """Draws faults at a rate and counts what it injected, by kind."""

    def __init__(self, rate: float, seed: int):
        self.rate = rate
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.injected: Counter = Counter()

    def draw(self, kinds: tuple[str, ...], label: str) -> str | None:
        with self.lock:
            if self.random.random() >= self.rate:
                return None
            kind = self.random.choice(kinds)
            self.injected[f"{label}:{kind}"] += 1
            return kind

    def chance(self, probability: float) -> bool:
        with self.lock:
            return self.random.random() < probability

    def uniform(self, low: float, high: float) -> float:
        with self.lock:
            return self.random.uniform(low, high)

    def choice(self, options):
        with self.lock:
            return self.random.choice(options)

    @property
    def total(self) -> int:
        return sum(self.injected.values())


class _QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(
        self, status: int, payload=None, *, raw: bytes | None = None, content_type="application/json", headers=()
    ):
        data = raw if raw is not None else (json.dumps(payload).encode() if payload is not None else b"")
        self.send_response(status)
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _read(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _fault_reply(self, kind: str, timeout: float) -> None:
        if kind == "timeout":
            time.sleep(timeout)
            self.close_connection = True
            return
        status = int(kind)
        headers = [("Retry-After", "1")] if status == 429 else []
        self._send(
            status, {"title": "stand-in fault", "detail": f"injected {status}", "status": status}, headers=headers
        )


# Replicate
# ------------------------------------------------------------------------------


class Webhooks:
    """Delivers signed webhooks to the app: lost, duplicated or delayed at the fault rate, and
    retried on failure as Replicate does."""

    def __init__(self, faults: Faults, app_url: str, host: str):
        self.faults = faults
        self.app_url = app_url
        self.host = host
        self.lock = threading.Lock()
        self.queue: list[tuple[float, int, str, bytes, str, int]] = []  # due, seq, path, body, id, attempt
        self.sequence = itertools.count()
        self.sent = Counter()
        self.stopped = threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()

    def send(self, webhook_url: str, payload: dict) -> None:
        path = "/" + webhook_url.split("://", 1)[1].split("/", 1)[1]
        body = json.dumps(payload).encode()
        webhook_id = f"msg_{next(self.sequence)}"
        kind = self.faults.draw(("lost", "duplicated", "delayed"), "webhook")
        if kind == "lost":
            return
        due = time.monotonic() + (self.faults.uniform(2, 12) if kind == "delayed" else 0.0)
        with self.lock:
            self.queue.append((due, next(self.sequence), path, body, webhook_id, 0))
            if kind == "duplicated":
                self.queue.append((due + self.faults.uniform(0, 3), next(self.sequence), path, body, webhook_id, 0))

    def _loop(self) -> None:
        while not self.stopped.is_set():
            now = time.monotonic()
            with self.lock:
                ready = [entry for entry in self.queue if entry[0] <= now]
                self.queue = [entry for entry in self.queue if entry[0] > now]
            for entry in ready:
                threading.Thread(target=self._deliver, args=(entry,), daemon=True).start()
            time.sleep(0.1)

    def _deliver(self, entry) -> None:
        _, _, path, body, webhook_id, attempt = entry
        headers = {
            key.removeprefix("HTTP_").replace("_", "-").lower(): value
            for key, value in sign(body, webhook_id=webhook_id).items()
        }
        headers.update({"Content-Type": "application/json", "Host": self.host, "X-Forwarded-Proto": "https"})
        request = urllib.request.Request(self.app_url + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        with self.lock:
            self.sent[status] += 1
            if not 200 <= status < 300 and attempt < 8:
                # Replicate retries failed deliveries with a backoff.
                self.queue.append(
                    (time.monotonic() + 2 * 2**attempt, next(self.sequence), path, body, webhook_id, attempt + 1)
                )


class ReplicateChaos(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, faults: Faults, webhooks: Webhooks, client_timeout: float):
        super().__init__(("127.0.0.1", 0), _ReplicateHandler)
        self.faults = faults
        self.webhooks = webhooks
        self.client_timeout = client_timeout
        self.lock = threading.RLock()
        self.counter = itertools.count(1)
        self.models: set[str] = set()
        self.files: set[str] = set()
        self.trainings: dict[str, dict] = {}
        self.predictions: dict[str, dict] = {}
        self.plans: dict[str, tuple[float, float, str]] = {}  # id -> (processing at, ends at, outcome)
        self.weights: dict[str, bytes] = {}
        self.outputs: dict[str, bytes] = {}
        self.trainings_by_destination = Counter()
        self.predictions_by_input = Counter()  # (prompt, seed)
        self.stopped = threading.Event()
        threading.Thread(target=self._clock, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address):
        pass  # clients that gave up on a slow answer

    def _plan(self, object_id: str, low: float, high: float) -> None:
        outcome = self.faults.choice(("succeeded",) * 6 + ("failed", "aborted"))
        start = time.monotonic()
        ends = start + self.faults.uniform(low, high)
        self.plans[object_id] = (start + (ends - start) / 3, ends, outcome)

    def create_training(self, model: str, version: str, body: dict) -> dict:
        with self.lock:
            training_id = f"tr{next(self.counter)}"
            training = {
                "id": training_id,
                "model": model,
                "version": version,
                "status": "starting",
                "input": body["input"],
                "logs": "",
                "error": None,
                "created_at": now_iso(),
                "destination": body["destination"],
                "source": "api",
                "webhook": body.get("webhook"),
                "urls": {
                    "get": f"https://api.replicate.com/v1/trainings/{training_id}",
                    "cancel": f"https://api.replicate.com/v1/trainings/{training_id}/cancel",
                },
            }
            self.trainings[training_id] = training
            self.trainings_by_destination[body["destination"]] += 1
            self._plan(training_id, 4, 12)
            return dict(training)

    def create_prediction(self, model: str, body: dict) -> dict:
        with self.lock:
            prediction_id = f"pr{next(self.counter)}chaos"
            prediction = {**new_prediction(prediction_id, model, body["input"]), "webhook": body.get("webhook")}
            self.predictions[prediction_id] = prediction
            self.predictions_by_input[(body["input"].get("prompt"), body["input"].get("seed"))] += 1
            self._plan(prediction_id, 2, 8)
            return dict(prediction)

    def _finish(self, item: dict, outcome: str) -> None:
        item["status"] = outcome
        item["completed_at"] = now_iso()
        if outcome != "aborted":
            item.setdefault("started_at", now_iso())
        item["metrics"] = {"predict_time": 5.0}
        if outcome == "failed":
            item["error"] = "CUDA out of memory (stand-in)"
        if outcome != "succeeded":
            return
        if item["id"].startswith("tr"):
            self.weights[item["id"]] = lora_tar()
            item["output"] = {
                "version": f"{item['destination']}:{'a' * 64}",
                "weights": f"{self.url}/weights/{item['id']}.tar",
            }
        else:
            sent = item["input"]
            image_format = sent.get("output_format", "webp")
            urls = []
            for index in range(sent.get("num_outputs", 1)):
                name = f"{item['id']}/out-{index}.{image_format}"
                self.outputs[name] = output_image(index, image_format)
                urls.append(f"{self.url}/outputs/{name}")
            item["output"] = urls

    def _clock(self) -> None:
        while not self.stopped.is_set():
            now = time.monotonic()
            events = []
            with self.lock:
                for collection, start_event in ((self.trainings, True), (self.predictions, False)):
                    for item in collection.values():
                        if item["status"] in TERMINAL:
                            continue
                        processing_at, ends_at, outcome = self.plans[item["id"]]
                        if now >= ends_at:
                            self._finish(item, outcome)
                            events.append(item)
                        elif now >= processing_at and item["status"] == "starting" and outcome != "aborted":
                            item["status"] = "processing"
                            item["started_at"] = now_iso()
                            item["logs"] = "flux_train_replicate:  50%|#####     | 500/1000 [01:00<01:00, loss: 0.31"
                            if start_event:
                                events.append(item)
                snapshots = [(item.get("webhook"), json.loads(json.dumps(item))) for item in events]
            for webhook, payload in snapshots:
                if webhook:
                    payload.pop("webhook", None)
                    self.webhooks.send(webhook, payload)
            time.sleep(0.2)

    def outcome(self, object_id: str) -> str:
        with self.lock:
            item = self.trainings.get(object_id) or self.predictions.get(object_id)
            return item["status"] if item else "missing"


class _ReplicateHandler(_QuietHandler):
    server: ReplicateChaos

    def do_GET(self):  # noqa: N802
        self._route("GET")

    def do_POST(self):  # noqa: N802
        self._route("POST")

    def _not_found(self):
        self._send(404, {"title": "Not found", "detail": "Not found", "status": 404})

    def _route(self, method: str) -> None:
        server = self.server
        raw = self._read()
        path = self.path.split("?", 1)[0]
        public = path.startswith(("/weights/", "/outputs/"))
        if not public and self.headers.get("Authorization") != f"Bearer {REPLICATE_TOKEN}":
            return self._send(
                401, {"title": "Unauthenticated", "detail": "You did not pass a valid token", "status": 401}
            )
        fault = server.faults.draw(HTTP_FAULTS, f"replicate {method} {self._label(path)}")
        creates = method == "POST" and (path.endswith("/trainings") or path.endswith("/predictions"))
        if fault is not None and not (fault == "timeout" and creates):
            return self._fault_reply(fault, server.client_timeout + 1)
        body = json.loads(raw) if raw and self.headers.get("Content-Type", "").startswith("application/json") else {}
        handler = self._post if method == "POST" else self._get
        if fault == "timeout":
            # Processed, but the answer comes too late: the client sees a timeout.
            self.wfile = io.BytesIO()
            handler(path, body, raw)
            time.sleep(server.client_timeout + 1)
            self.close_connection = True
            return None
        return handler(path, body, raw)

    @staticmethod
    def _label(path: str) -> str:
        return re.sub(r"/(tr\d+|pr\d+chaos|file\d+)", "/<id>", path).split("/versions/")[0]

    def _get(self, path: str, body, raw):
        server = self.server
        with server.lock:
            if match := re.fullmatch(r"/v1/models/([^/]+/[^/]+)", path):
                return (
                    self._send(200, model_payload(match.group(1)))
                    if match.group(1) in server.models
                    else self._not_found()
                )
            if match := re.fullmatch(r"/v1/trainings/(\w+)", path):
                item = server.trainings.get(match.group(1))
                return self._send(200, self._public(item)) if item else self._not_found()
            if path == "/v1/trainings":
                results = [self._public(item) for item in list(server.trainings.values())[::-1]]
                return self._send(200, {"next": None, "previous": None, "results": results})
            if match := re.fullmatch(r"/v1/predictions/(\w+)", path):
                item = server.predictions.get(match.group(1))
                return self._send(200, self._public(item)) if item else self._not_found()
            if path == "/v1/predictions":
                results = [self._public(item) for item in list(server.predictions.values())[::-1]]
                return self._send(200, {"next": None, "previous": None, "results": results})
            if path == "/v1/webhooks/default/secret":
                return self._send(200, {"key": WEBHOOK_SECRET})
            if match := re.fullmatch(r"/weights/(\w+)\.tar", path):
                content = server.weights.get(match.group(1))
                return self._send(200, raw=content, content_type="application/x-tar") if content else self._not_found()
            if match := re.fullmatch(r"/outputs/(\w+/out-\d+\.(webp|jpg|png))", path):
                content = server.outputs.get(match.group(1))
                if content is None:
                    return self._not_found()
                return self._send(200, raw=content, content_type=f"image/{match.group(2).replace('jpg', 'jpeg')}")
        return self._not_found()

    @staticmethod
    def _public(item: dict) -> dict:
        return {key: value for key, value in item.items() if key != "webhook"}

    def _post(self, path: str, body, raw):
        server = self.server
        if path == "/v1/models":
            with server.lock:
                server.models.add(f"{body['owner']}/{body['name']}")
            return self._send(201, model_payload(f"{body['owner']}/{body['name']}"))
        if path == "/v1/files":
            file_id = f"file{next(server.counter)}"
            server.files.add(file_id)
            return self._send(
                201,
                {
                    "id": file_id,
                    "name": "dataset.zip",
                    "content_type": "application/zip",
                    "size": len(raw),
                    "etag": hashlib.md5(raw).hexdigest(),  # noqa: S324 - an etag, not security
                    "checksums": {},
                    "metadata": {},
                    "created_at": now_iso(),
                    "expires_at": now_iso(),
                    "urls": {"get": f"https://api.replicate.com/v1/files/{file_id}"},
                },
            )
        if match := re.fullmatch(r"/v1/models/([^/]+/[^/]+)/versions/(\w+)/trainings", path):
            if body.get("destination") not in server.models:
                return self._send(404, {"detail": "The specified training destination does not exist", "status": 404})
            return self._send(201, self._public(server.create_training(match.group(1), match.group(2), body)))
        if match := re.fullmatch(r"/v1/models/([^/]+/[^/]+)/predictions", path):
            return self._send(201, self._public(server.create_prediction(match.group(1), body)))
        if match := re.fullmatch(r"/v1/(trainings|predictions)/(\w+)/cancel", path):
            with server.lock:
                item = getattr(server, match.group(1)).get(match.group(2))
                if item is None:
                    return self._not_found()
                if item["status"] not in TERMINAL:
                    item["status"] = "canceled"
                    item["completed_at"] = now_iso()
                return self._send(200, self._public(item))
        return self._not_found()


# Hugging Face Hub
# ------------------------------------------------------------------------------


class HubChaos(HubStandIn):
    """The Hub stand-in with upload errors: refused before the commit, or failing after it landed."""

    daemon_threads = True

    def __init__(self, faults: Faults):
        super().__init__()
        self.RequestHandlerClass = _HubChaosHandler
        self.faults = faults
        self.lock = threading.Lock()

    def commits_by_title(self) -> Counter:
        with self.lock:
            return Counter(commit["title"] for repo in self.repos.values() for commit in repo["commits"])


class _HubChaosHandler(_HubHandler):
    server: HubChaos

    def do_GET(self):  # noqa: N802
        if self.server.faults.draw(("500", "503"), "hub GET") is not None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return self._send(503, {"error": "stand-in fault"})
        with self.server.lock:
            return super().do_GET()

    def do_POST(self):  # noqa: N802
        path = self.path.split("?", 1)[0]
        is_commit = path.endswith("/commit/main")
        fault = self.server.faults.draw(("500", "503", "after-commit") if is_commit else ("500", "503"), "hub POST")
        if fault in ("500", "503"):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return self._send(int(fault), {"error": "stand-in upload error"})
        with self.server.lock:
            if fault == "after-commit":
                # The commit lands, but the answer is an error.
                real, self.wfile = self.wfile, io.BytesIO()
                super().do_POST()
                self.wfile = real
                return self._send(500, {"error": "stand-in error after the commit"})
            return super().do_POST()


# SendGrid
# ------------------------------------------------------------------------------


class SendGridChaos(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, faults: Faults, client_timeout: float):
        super().__init__(("127.0.0.1", 0), _SendGridHandler)
        self.faults = faults
        self.client_timeout = client_timeout
        self.lock = threading.Lock()
        self.accepted = Counter()  # (to, subject) -> mails accepted

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address):
        pass


class _SendGridHandler(_QuietHandler):
    server: SendGridChaos

    def do_POST(self):  # noqa: N802
        raw = self._read()
        if self.headers.get("Authorization") != f"Bearer {SENDGRID_KEY}":
            return self._send(401, {"errors": [{"message": "The provided authorization grant is invalid"}]})
        fault = self.server.faults.draw(HTTP_FAULTS, "sendgrid POST /v3/mail/send")
        if fault is not None:
            return self._fault_reply(fault, self.server.client_timeout + 1)
        mail = json.loads(raw)
        with self.server.lock:
            for personalization in mail["personalizations"]:
                for recipient in personalization["to"]:
                    self.server.accepted[(recipient["email"], mail["subject"])] += 1
        return self._send(202, headers=[("X-Message-Id", base64.urlsafe_b64encode(raw[:12]).decode())])
