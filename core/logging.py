"""Structured logs: one JSON object per line, carrying the request and task ids, with secrets redacted.

The ids live in a context variable: the request-id middleware binds the request's, and the Celery
signal handlers below carry it through the broker into the tasks a request enqueues (a message
header) and bind each task's own ids while it runs. Wired in settings.LOGGING and photoagent/celery.py.
Imports nothing that needs configured settings: the Celery app imports it first thing.
"""

import contextvars
import functools
import inspect
import json
import logging
import re
from datetime import UTC, datetime

from django.utils.functional import LazyObject, empty

_context: contextvars.ContextVar[dict] = contextvars.ContextVar("log_context", default={})  # noqa: B039 - never mutated

# Fields a JSON line carries when known, in this order.
FIELDS = (
    "request_id",
    "user_id",
    "task_id",
    "task_name",
    "run_id",
    "job_id",
    "item_id",
    "photo_id",
    "image_id",
    "method",
    "path",
    "status",
    "duration_ms",
)
# A task's id arguments, by parameter name, and the field each is logged as.
TASK_ID_ARGUMENTS = {
    "run_id": "run_id",
    "generation_id": "job_id",
    "item_id": "item_id",
    "photo_id": "photo_id",
    "image_id": "image_id",
    "user_id": "user_id",
}
# Message headers that carry the context from the code enqueueing a task to the worker running it.
HEADERS = {"request_id": "x_request_id", "user_id": "x_user_id"}


def bind(**fields) -> contextvars.Token:
    """Add fields to the log context until `unbind(token)`."""
    return _context.set({**_context.get(), **fields})


def unbind(token: contextvars.Token) -> None:
    _context.reset(token)


def current_request_id() -> str | None:
    return _context.get().get("request_id")


def _current_user_id() -> int | None:
    context = _context.get()
    if "user_id" in context:
        return context["user_id"]
    request = context.get("request")
    # Only a user some code already looked up: logging must never cause a query of its own.
    user = request.__dict__.get("user") if request is not None else None
    if user is None or (isinstance(user, LazyObject) and user.__dict__.get("_wrapped") is empty):
        return None
    return user.pk if user.is_authenticated else None


class ContextFilter(logging.Filter):
    """Puts the request and task ids of the current context on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if key in FIELDS and not hasattr(record, key):
                setattr(record, key, value)
        if not hasattr(record, "user_id"):
            record.user_id = _current_user_id()
        return True


REDACTED = "[REDACTED]"
REDACTIONS = [
    # Presigned S3 URLs: the whole query string (signature, credential, session token).
    (
        re.compile(
            r"\?[^\s\"'<>]*(?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature=|AWSAccessKeyId=)"
            r"[^\s\"'<>]*",
            re.IGNORECASE,
        ),
        "?" + REDACTED,
    ),
    # Our own signed links carry their secret in the path: LoRA downloads (generation.services.
    # lora_source), email verification, password reset and share links.
    (re.compile(r"(/generation/loras/)[^/\s\"'<>?]+"), r"\1" + REDACTED),
    (re.compile(r"(/accounts/verify/)(?!resend/)[^/\s\"'<>?]+"), r"\1" + REDACTED),
    (re.compile(r"(/accounts/password/reset/)(?!sent/|complete/)[^/\s\"'<>?]+/[^/\s\"'<>?]+"), r"\1" + REDACTED),
    (re.compile(r"(/s/)[\w-]{16,}"), r"\1" + REDACTED),
    # Credentials in headers and tokens by their vendor's prefix.
    (re.compile(r"\b(Bearer)\s+[\w.~+/=-]+", re.IGNORECASE), r"\1 " + REDACTED),
    (
        re.compile(
            r"(Authorization[\"']?\s*[:=]\s*[\"']?)(?!Bearer\b)(?:(?:Token|Basic)\s+)?[^\s\"',}]+", re.IGNORECASE
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"\br8_[A-Za-z0-9]{16,}"), "r8_" + REDACTED),
    (re.compile(r"\bhf_[A-Za-z0-9]{16,}"), "hf_" + REDACTED),
    (re.compile(r"\bSG\.[\w-]{8,}\.[\w-]{8,}"), "SG." + REDACTED),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]{8,}"), "whsec_" + REDACTED),
    (re.compile(r"\b(pat_[0-9a-f]{12}_)[\w-]+"), r"\1" + REDACTED),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), REDACTED),
]


def redact(text: str) -> str:
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Removes API tokens, presigned query strings and our signed link secrets from a record's
    message, traceback and path, before any formatter sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken log call is the handler's to report, not ours to raise
            return True
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        path = getattr(record, "path", None)  # Django's request records carry the request path
        if isinstance(path, str):
            record.__dict__["path"] = redact(path)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message and the known context ids."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


# Celery signal handlers (connected in photoagent/celery.py)
# ------------------------------------------------------------------------------
_task_tokens: dict[str, list[contextvars.Token]] = {}


def task_publishing(headers: dict | None = None, **kwargs) -> None:
    """before_task_publish: the enqueueing request's ids travel with the message."""
    if headers is None:
        return
    for field, value in (("request_id", current_request_id()), ("user_id", _current_user_id())):
        if value is not None:
            headers.setdefault(HEADERS[field], value)


def task_started(task_id: str, task, args=(), kwargs=None, **_) -> None:
    """task_prerun: log lines of the task carry its ids, and those of the request that enqueued it."""
    fields = {"task_id": task_id, "task_name": task.name}
    for field, header in HEADERS.items():
        value = getattr(task.request, header, None)
        if value is not None:
            fields[field] = value
    fields.update(_task_id_arguments(task, tuple(args or ()), dict(kwargs or {})))
    _task_tokens.setdefault(task_id, []).append(bind(**fields))


def task_finished(task_id: str, **_) -> None:
    """task_postrun: back to the context from before the task (an eager task runs inside a request)."""
    tokens = _task_tokens.get(task_id)
    if tokens:
        unbind(tokens.pop())
        if not tokens:
            del _task_tokens[task_id]


def _task_id_arguments(task, args: tuple, kwargs: dict) -> dict:
    try:
        arguments = _signature(task.name, task.run).bind_partial(*args, **kwargs).arguments
    except TypeError:
        return {}
    return {field: arguments[name] for name, field in TASK_ID_ARGUMENTS.items() if name in arguments}


@functools.lru_cache(maxsize=256)
def _signature(name: str, run) -> inspect.Signature:
    return inspect.signature(run)
