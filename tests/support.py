"""Helpers shared by tests that wait on real processes (a Celery worker, a live server)."""

import time


def wait_for(condition, seconds=45):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False
