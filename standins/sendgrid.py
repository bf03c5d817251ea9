"""A local stand-in that speaks SendGrid's v3 Mail Send API, for the real sendgrid client."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SPEC = json.loads((Path(__file__).parent / "specs" / "sendgrid-mail-v3.json").read_text())
# The Mail Send request body schema, resolved against the spec's own components.
MAIL_SEND_SCHEMA = {
    "components": SPEC["components"],
    "$ref": "#/components/requestBodies/PostMailSend/content/application~1json/schema",
}
API_KEY = "SG.test-key"


class SendGridStandIn(ThreadingHTTPServer):
    """Records each request; answers with the queued (status, body, delay) or 202."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict] = []
        self.responses: list[tuple[int, dict | None, float]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def serving(settings) -> Iterator[SendGridStandIn]:
    """A running stand-in with the real SendGrid email backend pointed at it (pytest-django's
    `settings` restores the settings afterwards)."""
    server = SendGridStandIn()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.EMAIL_BACKEND = "integrations.sendgrid.SendGridEmailBackend"
    settings.SENDGRID_API_KEY = API_KEY
    settings.SENDGRID_API_HOST = server.url
    settings.EMAIL_TIMEOUT = 1
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: SendGridStandIn

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
        status, payload, delay = self.server.responses.pop(0) if self.server.responses else (202, None, 0)
        time.sleep(delay)
        data = json.dumps(payload).encode() if payload else b""
        self.send_response(status)
        self.send_header("X-Message-Id", "standin-message-1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass
