"""Helpers shared by tests that wait on real processes (a Celery worker, a live server)."""

import asyncio
import json
import time
from urllib.parse import unquote, urlsplit

from asgiref.testing import ApplicationCommunicator
from rest_framework.test import APIClient


def wait_for(condition, seconds=45):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


# Chromium in a container, offline: no sandbox or GPU, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def messages_of(response) -> list[str]:
    """The messages a rendered page shows (Django's messages framework)."""
    return [str(message) for message in response.context["messages"]]


def api_for(user) -> APIClient:
    """An API client authenticated as `user`."""
    api = APIClient()
    api.force_authenticate(user)
    return api


class WebsocketCommunicator(ApplicationCommunicator):
    """channels.testing's WebsocketCommunicator, without its package import of Daphne (which this
    project does not install: uvicorn serves it)."""

    def __init__(self, application, path, headers=None):
        parsed = urlsplit(path)
        scope = {
            "type": "websocket",
            "path": unquote(parsed.path),
            "query_string": parsed.query.encode(),
            "headers": headers or [],
            "subprotocols": [],
        }
        super().__init__(application, scope)

    async def connect(self, timeout=3):
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        return True, response.get("subprotocol")

    async def send_json_to(self, data):
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json_from(self, timeout=1):
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def next_json(self, timeout=1):
        """The next message, or None after `timeout` (the application keeps running; a timeout in
        receive_output would cancel it)."""
        try:
            response = await asyncio.wait_for(self.output_queue.get(), timeout)
        except TimeoutError:
            return None
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def disconnect(self, code=1000, timeout=1):
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)
