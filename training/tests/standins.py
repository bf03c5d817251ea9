"""Local stand-ins that speak Replicate's HTTP API, for the real replicate client in tests."""

import base64
import hashlib
import hmac
import io
import json
import re
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from training.backends.demo import simulated_safetensors

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"stand-in webhook signing key!!").decode()


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
    """Trainings, models, files and the webhook secret; faults can be queued per route."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str, dict | None]] = []
        self.models: set[str] = set()
        self.trainings: dict[str, dict] = {}
        self.weights: dict[str, bytes] = {}
        self.faults: list[tuple[str, int, dict]] = []  # (route pattern, status, body)
        self._counter = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def fail_next(self, pattern: str, status: int, body: dict | None = None) -> None:
        self.faults.append((pattern, status, body or {"detail": f"stand-in fault {status}", "status": status}))

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
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str):
        body = self._body()
        path = self.path.split("?", 1)[0]
        self.server.requests.append((method, path, body))
        if self.headers.get("Authorization") != "Bearer r8_standin" and not path.startswith("/weights/"):
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

    def _model(self, name: str) -> dict:
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

    def _get(self, path: str, body):
        server = self.server
        if match := re.fullmatch(r"/v1/models/([^/]+/[^/]+)", path):
            name = match.group(1)
            return (
                self._send(200, self._model(name))
                if name in server.models
                else self._send(404, {"detail": "Not found", "status": 404})
            )
        if match := re.fullmatch(r"/v1/trainings/([\w-]+)", path):
            training = server.trainings.get(match.group(1))
            return self._send(200, training) if training else self._send(404, {"detail": "Not found", "status": 404})
        if path == "/v1/trainings":
            return self._send(200, {"next": None, "previous": None, "results": list(server.trainings.values())[::-1]})
        if path == "/v1/webhooks/default/secret":
            return self._send(200, {"key": WEBHOOK_SECRET})
        if match := re.fullmatch(r"/weights/([\w-]+)\.tar", path):
            return self._send(200, raw=server.weights[match.group(1)], content_type="application/x-tar")
        return self._send(404, {"detail": "Not found", "status": 404})

    def _post(self, path: str, body):
        server = self.server
        if path == "/v1/models":
            name = f"{body['owner']}/{body['name']}"
            server.models.add(name)
            return self._send(201, self._model(name))
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
                "created_at": "2026-11-21T00:00:00Z",
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
        return self._send(404, {"detail": "Not found", "status": 404})


def start_replicate_standin() -> ReplicateStandIn:
    server = ReplicateStandIn()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class HubStandIn(ThreadingHTTPServer):
    """Enough of the Hugging Face Hub for create_repo, list_repo_commits and create_commit.

    Preupload answers "regular", so files come inline (base64) in the NDJSON commit.
    """

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _HubHandler)
        self.repos: dict[str, dict] = {}  # repo id -> {"private": bool, "files": {path: bytes}, "commits": [...]}
        self.requests: list[tuple[str, str]] = []
        self.fail_commit_with: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _HubHandler(BaseHTTPRequestHandler):
    server: HubStandIn

    def log_message(self, *args):
        pass

    def _send(self, status: int, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):  # noqa: N802
        path = self.path.split("?", 1)[0]
        self.server.requests.append(("GET", path))
        if match := re.fullmatch(r"/api/models/([^/]+/[^/]+)/commits/main", path):
            repo = self.server.repos.get(match.group(1))
            return (
                self._send(200, repo["commits"][::-1]) if repo else self._send(404, {"error": "Repository not found"})
            )
        return self._send(404, {"error": "not found"})

    def do_POST(self):  # noqa: N802
        path = self.path.split("?", 1)[0]
        self.server.requests.append(("POST", path))
        body = self._read()
        if self.headers.get("Authorization") != "Bearer hf_standin":
            return self._send(401, {"error": "Invalid credentials"})
        if path == "/api/repos/create":
            spec = json.loads(body)
            repo_id = f"{spec.get('organization')}/{spec['name']}"
            url = f"{self.server.url}/{repo_id}"
            if repo_id in self.server.repos:
                return self._send(409, {"error": "You already created this model repo", "url": url})
            private = spec.get("private") is True or spec.get("visibility") == "private"
            self.server.repos[repo_id] = {"private": private, "files": {}, "commits": []}
            return self._send(200, {"url": url})
        if path == "/api/validate-yaml":
            return self._send(200, {"errors": [], "warnings": []})
        if match := re.fullmatch(r"/api/models/([^/]+/[^/]+)/preupload/main", path):
            files = json.loads(body)["files"]
            return self._send(
                200,
                {
                    "files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None} for f in files
                    ]
                },
            )
        if match := re.fullmatch(r"/api/models/([^/]+/[^/]+)/commit/main", path):
            if self.server.fail_commit_with:
                status, self.server.fail_commit_with = self.server.fail_commit_with, None
                return self._send(status, {"error": "stand-in commit failure"})
            repo = self.server.repos[match.group(1)]
            lines = [json.loads(line) for line in body.splitlines() if line.strip()]
            header = next(line["value"] for line in lines if line["key"] == "header")
            for line in lines:
                if line["key"] == "file":
                    repo["files"][line["value"]["path"]] = base64.b64decode(line["value"]["content"])
            oid = hashlib.sha1(body).hexdigest()
            repo["commits"].append(
                {
                    "id": oid,
                    "title": header["summary"],
                    "message": header.get("description", ""),
                    "authors": [{"user": "photoagent"}],
                    "date": "2026-11-21T00:00:00.000Z",
                }
            )
            return self._send(200, {"commitUrl": f"{self.server.url}/{match.group(1)}/commit/{oid}", "commitOid": oid})
        return self._send(404, {"error": "not found"})


def start_hub_standin() -> HubStandIn:
    server = HubStandIn()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
