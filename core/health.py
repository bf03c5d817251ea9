"""Checks behind /healthz: can we reach the database, the broker and the media storage?"""

import logging
import time
import uuid

from celery import current_app as celery_app
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 3


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)


def check_storage() -> None:
    # A real write and delete: "exists" alone would pass on a read-only or full disk.
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    default_storage.delete(name)


CHECKS = {"database": check_database, "broker": check_broker, "storage": check_storage}


def run_checks() -> dict:
    """Run every check; returns {"status": "ok"|"error", "checks": {name: {"ok", "ms", "error"?}}}."""
    results = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "down"
            # The page is public: it names the failure's type, the log has the details.
            logger.exception("healthz: %s check failed", name)
            results[name] = {"ok": False, "error": type(exc).__name__}
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    status = "ok" if all(result["ok"] for result in results.values()) else "error"
    return {"status": status, "checks": results}
