"""A local stand-in for the Hugging Face Hub, for the real huggingface_hub client in tests."""

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
            oid = hashlib.sha1(body, usedforsecurity=False).hexdigest()  # a git-style commit id
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
