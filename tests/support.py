"""Helpers shared by tests that wait on real processes (a Celery worker, a live server)."""

import time

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
