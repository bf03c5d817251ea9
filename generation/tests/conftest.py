import pytest


@pytest.fixture
def worker_retries(monkeypatch):
    """Eager tasks retry as a worker would, at once, instead of raising Retry to the caller; when
    retries run out the task fails (and its on_failure runs)."""
    from photoagent.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
