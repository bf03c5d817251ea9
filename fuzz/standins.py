"""Stand-ins for Replicate, the Hugging Face Hub and SendGrid whose behaviour the fuzzer invents.

Each speaks the real HTTP API to the real client library. Replicate's trainings and predictions
follow a script drawn per object (statuses over the clock, including ones that skip steps, repeat,
go back or are unknown; the outputs they end with) and queue their webhooks in a mailbox the fuzzer
delivers, loses, duplicates or forges. Faults are queued per route: HTTP errors (429 with and
without Retry-After, 5xx, 404), timeouts, connections reset before the request is processed,
replies lost after it was (a create that happened all the same), and malformed bodies.
"""

import base64
import hashlib
import io
import json
import re
import tarfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standins.replicate import WEBHOOK_SECRET, model_payload, now_iso, output_image
from training.backends.demo import simulated_safetensors

REPLICATE_TOKEN = "r8_standin"
HUB_TOKEN = "hf_standin"
SENDGRID_KEY = "SG.fuzz-standin"
TERMINAL = ("succeeded", "failed", "canceled", "aborted")
# Longer than the clients' timeouts in the fuzzer's settings.
TIMEOUT_SECONDS = 0.45


@dataclass
class Script:
    """What one training or prediction does: (seconds after creation, status) steps, and its end."""

    steps: list[tuple[float, object]]
    outcome: str = "ok"  # what a success returns (see OUTCOMES); a failure's error text otherwise
    error: object = None
    num_outputs: int = 1


@dataclass
class Fault:
    route: str
    kind: str
    remaining: int


@dataclass
class Remote:
    """One training or prediction at the stand-in."""

    id: str
    kind: str  # "training" | "prediction"
    created: float
    script: Script
    body: dict
    webhook: str | None
    emitted: int = 0  # script steps whose webhook is in the mailbox
    canceled_at: float | None = None
    downloads: int = 0
    extra: dict = field(default_factory=dict)


def tar_with(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(f"output/flux_train_replicate/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def bad_header_lora() -> bytes:
    raw = json.dumps({"w": [1, 2]}).encode()
    return len(raw).to_bytes(8, "little") + raw + b"\0" * 16


WEIGHTS = {
    "ok": lambda: tar_with({"lora.safetensors": simulated_safetensors()}),
    "bad_header": lambda: tar_with({"lora.safetensors": bad_header_lora()}),
    "truncated": lambda: tar_with({"lora.safetensors": simulated_safetensors()})[:560],
    "no_lora": lambda: tar_with({"README.md": b"nothing here"}),
    "not_a_tar": lambda: b"<html>503 Service Temporarily Unavailable</html>",
    "oversized": lambda: tar_with({"lora.safetensors": simulated_safetensors() + b"\0" * 300_000}),
}
# How a succeeded training reports its weights.
TRAINING_OUTCOMES = (*WEIGHTS, "data_uri", "gone", "gone_later", "ftp", "missing", "not_a_string")
# How each output of a succeeded prediction reads.
PREDICTION_OUTCOMES = ("ok", "data_uri", "gone", "gone_later", "number", "object", "not_an_image", "data_removed")
ERRORS = (
    "Traceback (most recent call last):\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2 GiB",
    "ValueError: input_images must be a zip file",
    "NSFW content detected. Try running it again, or try a different prompt.",
    "Prediction interrupted; please retry (code: PA)",
    "",
    None,
    12345,
)


class FaultyServer(ThreadingHTTPServer):
    """A stand-in on a free loopback port with faults queued per route."""

    daemon_threads = True
    handler: type

    def __init__(self):
        super().__init__(("127.0.0.1", 0), self.handler)
        self.lock = threading.RLock()
        self.reset()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def reset(self) -> None:
        self.faults: list[Fault] = []
        self.faults_injected = 0

    def handle_error(self, request, client_address):
        pass  # a client that timed out and hung up is what a slow answer is for

    def inject(self, route: str, kind: str, count: int) -> None:
        with self.lock:
            self.faults.append(Fault(route, kind, count))

    def take_fault(self, route: str) -> str | None:
        with self.lock:
            for fault in self.faults:
                if fault.route == route and fault.remaining > 0:
                    fault.remaining -= 1
                    self.faults_injected += 1
                    return fault.kind
        return None


class FuzzReplicate(FaultyServer):
    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.secret = WEBHOOK_SECRET
            self.requests: list[tuple[str, str, str]] = []  # (method, path, the remote it concerns)
            self.remotes: dict[str, Remote] = {}
            self.files: dict[str, int] = {}
            self.models: set[str] = set()
            self.log: list[str] = []  # "METHOD path fault", in order, for reports
            self.scripts: dict[str, list[Script]] = {"training": [], "prediction": []}
            self.mailbox: list[dict] = []
            self.counter = 0

    # Remotes: their state is a function of the clock and their script
    # --------------------------------------------------------------------------

    def create(self, kind: str, body: dict, webhook: str | None) -> Remote:
        with self.lock:
            self.counter += 1
            prefix = "tr" if kind == "training" else "pr"
            remote_id = f"{prefix}{uuid.uuid4().hex[:20]}"  # unique across examples, as Replicate's are
            scripts = self.scripts[kind]
            script = scripts.pop(0) if scripts else Script(steps=[(0, "starting"), (30, "succeeded")])
            if kind == "prediction":
                script.num_outputs = int((body.get("input") or {}).get("num_outputs") or 1)
            remote = Remote(remote_id, kind, time.time(), script, body, webhook)
            self.remotes[remote_id] = remote
            return remote

    def status_of(self, remote: Remote, at: float | None = None) -> tuple[object, int]:
        """The remote's status now (or at `at`), and how many script steps have happened."""
        elapsed = (time.time() if at is None else at) - remote.created
        status, reached = "starting", 0
        for index, (after, step_status) in enumerate(remote.script.steps):
            if after > elapsed:
                break
            status, reached = step_status, index + 1
            if step_status in TERMINAL:
                break
        if remote.canceled_at is not None and status not in TERMINAL:
            status = "canceled"
        return status, reached

    def payload(self, remote: Remote, status=None) -> dict:
        status = self.status_of(remote)[0] if status is None else status
        api = f"https://api.replicate.com/v1/{remote.kind}s/{remote.id}"
        body = {
            "id": remote.id,
            "status": status,
            "input": remote.body.get("input"),
            "created_at": now_iso(),
            "logs": "",
            "error": None,
            "urls": {"get": api, "cancel": f"{api}/cancel"},
        }
        if remote.kind == "training":
            body.update(
                model="ostris/flux-dev-lora-trainer",
                version="26dce37af90b9d997eeb970d92e47de3064d46c300504ae376c75bef6a9022d2",
            )
            done = min(1.0, (time.time() - remote.created) / 600)
            body["logs"] = f"flux_train_replicate: {int(done * 100)}%| {int(done * 1000)}/1000 [loss: 3.1e-01]\n"
        else:
            body.update(model="black-forest-labs/flux-dev-lora", version="3801e1cc" + "0" * 56, output=None)
            body["data_removed"] = False
        if status in ("failed", "canceled", "aborted", "succeeded"):
            body["metrics"] = {"predict_time": 42.5}
            body["completed_at"] = now_iso()
        if status == "failed":
            body["error"] = remote.script.error
        if status == "succeeded":
            if remote.kind == "training":
                weights = self.weights_reference(remote)
                body["output"] = {"version": f"{remote.body.get('destination')}:{'b' * 64}"}
                if weights is not None:
                    body["output"]["weights"] = weights
            elif remote.script.outcome == "data_removed" and time.time() - remote.created > 1800:
                body.update(output=None, data_removed=True, input={})
            else:
                body["output"] = [self.output_reference(remote, index) for index in range(remote.script.num_outputs)]
        return body

    def weights_reference(self, remote: Remote):
        outcome = remote.script.outcome
        if outcome == "data_uri":
            return "data:application/x-tar;base64," + base64.b64encode(WEIGHTS["ok"]()).decode()
        if outcome == "ftp":
            return "ftp://replicate.delivery/weights.tar"
        if outcome == "missing":
            return None
        if outcome == "not_a_string":
            return {"url": "x"}
        return f"{self.url}/weights/{remote.id}.tar"

    def output_reference(self, remote: Remote, index: int):
        outcome = remote.script.outcome
        if outcome == "data_uri":
            return "data:image/webp;base64," + base64.b64encode(output_image(index)).decode()
        if outcome == "number":
            return 7
        if outcome == "object":
            return {"uri": "x"}
        return f"{self.url}/outputs/{remote.id}/out-{index}.webp"

    def emit_webhooks(self) -> None:
        """Queue a webhook for every script step that has happened since the last call."""
        with self.lock:
            for remote in self.remotes.values():
                if not remote.webhook:
                    continue
                status, reached = self.status_of(remote)
                while remote.emitted < reached:
                    step_status = remote.script.steps[remote.emitted][1]
                    remote.emitted += 1
                    if remote.kind == "prediction" and step_status not in TERMINAL:
                        continue  # predictions ask for "completed" only
                    self.mailbox.append(
                        {
                            "url": remote.webhook,
                            "payload": self.payload(remote, step_status),
                            "webhook_id": f"msg_{remote.id}_{remote.emitted}",
                        }
                    )

    def concerning(self, remote_id: str) -> int:
        return sum(1 for _, _, about in self.requests if about == remote_id)


ROUTES = [
    ("POST", r"/v1/files", "files"),
    ("GET", r"/v1/models/[^/]+/[^/]+", "models_get"),
    ("POST", r"/v1/models", "models_create"),
    ("POST", r"/v1/models/[^/]+/[^/]+/versions/\w+/trainings", "training_create"),
    ("GET", r"/v1/trainings", "training_list"),
    ("GET", r"/v1/trainings/([\w-]+)", "training_get"),
    ("POST", r"/v1/trainings/([\w-]+)/cancel", "training_cancel"),
    ("POST", r"/v1/models/[^/]+/[^/]+/predictions", "prediction_create"),
    ("GET", r"/v1/predictions", "prediction_list"),
    ("GET", r"/v1/predictions/([\w-]+)", "prediction_get"),
    ("POST", r"/v1/predictions/([\w-]+)/cancel", "prediction_cancel"),
    ("GET", r"/v1/webhooks/default/secret", "secret"),
    ("GET", r"/weights/([\w-]+)\.tar", "weights"),
    ("GET", r"/outputs/([\w-]+)/out-(\d+)\.webp", "outputs"),
]
REPLICATE_ROUTES = tuple(route for _, _, route in ROUTES)


def match_route(method: str, path: str):
    for route_method, pattern, route in ROUTES:
        match = re.fullmatch(pattern, path)
        if route_method == method and match:
            return route, match
    return "", None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _read(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status: int, payload=None, raw: bytes | None = None, content_type="application/json", headers=()):
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def reset_connection(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    def fault(self, kind: str) -> bool:
        """Answer with the fault before processing; False for faults that come after processing."""
        if kind in ("429", "500", "503", "504", "404", "403", "400"):
            headers = [("Retry-After", "0")] if kind == "429" else []
            self.send(int(kind), {"detail": f"fuzzed {kind}", "status": int(kind)}, headers=headers)
        elif kind == "429_bare":
            self.send(429, {"detail": "Request was throttled. Your rate limit resets in ~1s.", "status": 429})
        elif kind == "reset":
            self.reset_connection()
        elif kind == "timeout":
            threading.Event().wait(TIMEOUT_SECONDS)  # a real wait: the fuzzer makes time.sleep instant
            self.reset_connection()
        elif kind == "malformed":
            self.send(200, raw=b'{"id": "tr', content_type="application/json")
        elif kind == "json_array":
            self.send(200, [1, 2])
        else:
            return False  # "lost_reply": processed, then the answer never arrives
        return True


class _ReplicateHandler(_Handler):
    server: FuzzReplicate

    def do_GET(self):  # noqa: N802
        self.route("GET")

    def do_POST(self):  # noqa: N802
        self.route("POST")

    def route(self, method: str) -> None:
        raw = self._read()
        path = self.path.split("?", 1)[0]
        route, match = match_route(method, path)
        if match is None:
            return self.send(404, {"detail": "Not found", "status": 404})
        about = match.group(1) if match.groups() else ""
        server = self.server
        if route in ("weights", "outputs") or self.headers.get("Authorization") == f"Bearer {REPLICATE_TOKEN}":
            pass
        else:
            return self.send(401, {"title": "Unauthenticated", "detail": "no token", "status": 401})
        body = json.loads(raw) if raw and self.headers.get("Content-Type", "").startswith("application/json") else {}
        if route == "training_create":
            about = (body.get("input") or {}).get("input_images", "")
        elif route == "prediction_create":
            about = (body.get("input") or {}).get("prompt", "")
        with server.lock:
            server.requests.append((method, path, about))
        kind = server.take_fault(route)
        with server.lock:
            server.log.append(f"{method} {path} {kind or ''}".strip())
        if kind and self.fault(kind):
            return None
        answer = getattr(self, f"_{route}")(match, body)
        if kind == "lost_reply":
            return self.reset_connection()
        return self.send(*answer) if isinstance(answer, tuple) else None

    def _files(self, match, body):
        self.server.counter += 1
        file_id = f"file{self.server.counter}"
        return 201, {
            "id": file_id,
            "name": "dataset.zip",
            "content_type": "application/zip",
            "size": 1,
            "etag": "x",
            "checksums": {},
            "metadata": {},
            "created_at": now_iso(),
            "expires_at": now_iso(),
            "urls": {"get": f"https://api.replicate.com/v1/files/{file_id}"},
        }

    def _models_get(self, match, body):
        name = self.path.split("?", 1)[0].removeprefix("/v1/models/")
        if name in self.server.models:
            return 200, model_payload(name)
        return 404, {"detail": "Not found", "status": 404}

    def _models_create(self, match, body):
        name = f"{body['owner']}/{body['name']}"
        self.server.models.add(name)
        return 201, model_payload(name)

    def _training_create(self, match, body):
        if body.get("destination") not in self.server.models:
            return 404, {"detail": "The specified training destination does not exist", "status": 404}
        remote = self.server.create("training", body, body.get("webhook"))
        return 201, self.server.payload(remote)

    def _training_list(self, match, body):
        trainings = [r for r in self.server.remotes.values() if r.kind == "training"][::-1]
        return 200, {"next": None, "previous": None, "results": [self.server.payload(r) for r in trainings]}

    def _remote(self, match, kind):
        remote = self.server.remotes.get(match.group(1))
        return remote if remote is not None and remote.kind == kind else None

    def _training_get(self, match, body):
        remote = self._remote(match, "training")
        return (200, self.server.payload(remote)) if remote else (404, {"detail": "Not found", "status": 404})

    def _training_cancel(self, match, body):
        remote = self._remote(match, "training")
        if remote is None:
            return 404, {"detail": "Not found", "status": 404}
        if self.server.status_of(remote)[0] not in TERMINAL:
            remote.canceled_at = time.time()
        return 200, self.server.payload(remote)

    def _prediction_create(self, match, body):
        remote = self.server.create("prediction", body, body.get("webhook"))
        return 201, self.server.payload(remote)

    def _prediction_list(self, match, body):
        predictions = [r for r in self.server.remotes.values() if r.kind == "prediction"][::-1]
        return 200, {"next": None, "previous": None, "results": [self.server.payload(r) for r in predictions]}

    def _prediction_get(self, match, body):
        remote = self._remote(match, "prediction")
        return (200, self.server.payload(remote)) if remote else (404, {"detail": "Not found", "status": 404})

    def _prediction_cancel(self, match, body):
        remote = self._remote(match, "prediction")
        if remote is None:
            return 404, {"detail": "Not found", "status": 404}
        if self.server.status_of(remote)[0] not in TERMINAL:
            remote.canceled_at = time.time()
        return 200, self.server.payload(remote)

    def _secret(self, match, body):
        return 200, {"key": self.server.secret}

    def _expired(self, remote: Remote) -> bool:
        # "gone_later": the first download works, later ones find the file deleted.
        outcome = remote.script.outcome
        return outcome == "gone" or (outcome == "gone_later" and remote.downloads > 0)

    def _weights(self, match, body):
        remote = self._remote(match, "training")
        if remote is None or self._expired(remote):
            return 404, None, b"Not found", "text/plain"
        remote.downloads += 1
        return 200, None, WEIGHTS.get(remote.script.outcome, WEIGHTS["ok"])(), "application/x-tar"

    def _outputs(self, match, body):
        remote = self._remote(match, "prediction")
        if remote is None or self._expired(remote):
            return 404, None, b"Not found", "text/plain"
        remote.downloads += 1
        if remote.script.outcome == "not_an_image":
            return 200, None, b"<html>not an image</html>", "image/webp"
        return 200, None, output_image(int(match.group(2))), "image/webp"


# The Hugging Face Hub
# ------------------------------------------------------------------------------

HUB_ROUTES = ("hub_create", "hub_commits", "hub_preupload", "hub_commit")


class FuzzHub(FaultyServer):
    """create_repo, list_repo_commits, preupload and create_commit; commits are counted per run marker."""

    def reset(self) -> None:
        super().reset()
        self.repos: dict[str, list[dict]] = {}

    def commits_with(self, title: str) -> int:
        return sum(1 for commits in self.repos.values() for commit in commits if commit["title"] == title)


class _HubHandler(_Handler):
    server: FuzzHub

    def do_GET(self):  # noqa: N802
        path = self.path.split("?", 1)[0]
        if match := re.fullmatch(r"/api/models/([^/]+/[^/]+)/commits/main", path):
            kind = self.server.take_fault("hub_commits")
            if kind and self.fault(kind):
                return None
            commits = self.server.repos.get(match.group(1))
            if commits is None:
                return self.send(404, {"error": "Repository not found"})
            return self.send(200, commits[::-1])
        return self.send(404, {"error": "not found"})

    def do_POST(self):  # noqa: N802
        path = self.path.split("?", 1)[0]
        body = self._read()
        if self.headers.get("Authorization") != f"Bearer {HUB_TOKEN}":
            return self.send(401, {"error": "Invalid credentials"})
        if path == "/api/repos/create":
            kind = self.server.take_fault("hub_create")
            if kind and self.fault(kind):
                return None
            spec = json.loads(body)
            repo_id = f"{spec.get('organization')}/{spec['name']}"
            url = f"{self.server.url}/{repo_id}"
            with self.server.lock:
                if repo_id in self.server.repos:
                    return self.send(409, {"error": "You already created this model repo", "url": url})
                self.server.repos[repo_id] = []
            return self.send(200, {"url": url})
        if path == "/api/validate-yaml":
            return self.send(200, {"errors": [], "warnings": []})
        if re.fullmatch(r"/api/models/([^/]+/[^/]+)/preupload/main", path):
            kind = self.server.take_fault("hub_preupload")
            if kind and self.fault(kind):
                return None
            files = json.loads(body)["files"]
            entries = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None} for f in files]
            return self.send(200, {"files": entries})
        if match := re.fullmatch(r"/api/models/([^/]+/[^/]+)/commit/main", path):
            kind = self.server.take_fault("hub_commit")
            if kind and self.fault(kind):
                return None
            lines = [json.loads(line) for line in body.splitlines() if line.strip()]
            header = next(line["value"] for line in lines if line["key"] == "header")
            oid = hashlib.sha1(body, usedforsecurity=False).hexdigest()
            with self.server.lock:
                self.server.repos.setdefault(match.group(1), []).append(
                    {
                        "id": oid,
                        "title": header["summary"],
                        "message": "",
                        "authors": [],
                        "date": "2026-12-01T00:00:00Z",
                    }
                )
            if kind == "lost_reply":
                return self.reset_connection()
            return self.send(200, {"commitUrl": f"{self.server.url}/{match.group(1)}/commit/{oid}", "commitOid": oid})
        return self.send(404, {"error": "not found"})


# SendGrid
# ------------------------------------------------------------------------------

SENDGRID_ROUTES = ("mail_send",)


class FuzzSendGrid(FaultyServer):
    """POST /v3/mail/send: 202 and the mail is counted as accepted, or the queued fault (before acceptance)."""

    def reset(self) -> None:
        super().reset()
        self.accepted: list[str] = []  # the text of each accepted mail

    def mails_about(self, needle: str) -> int:
        return sum(1 for text in self.accepted if needle in text)


class _SendGridHandler(_Handler):
    server: FuzzSendGrid

    def do_POST(self):  # noqa: N802
        body = self._read()
        if self.headers.get("Authorization") != f"Bearer {SENDGRID_KEY}":
            return self.send(401, {"errors": [{"message": "unauthorized"}]})
        kind = self.server.take_fault("mail_send")
        if kind == "400":
            return self.send(400, {"errors": [{"message": "The to email does not contain a valid address."}]})
        if kind and kind != "lost_reply" and self.fault(kind):
            return None
        mail = json.loads(body)
        with self.server.lock:
            self.server.accepted.append(json.dumps(mail["content"]))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.send_header("X-Message-Id", "fuzz")
        self.end_headers()
        return None


FuzzReplicate.handler = _ReplicateHandler
FuzzHub.handler = _HubHandler
FuzzSendGrid.handler = _SendGridHandler


def start(server: FaultyServer) -> FaultyServer:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
