"""Replicate: the only module that imports the replicate SDK. Owns the client, the plain HTTP
calls for what the client cannot read, timeouts, error mapping and webhook signature checks
(Standard Webhooks)."""

import base64
import binascii
import functools
import hashlib
import hmac
import io
import logging
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO, cast
from urllib.parse import unquote_to_bytes

import httpx
import replicate
from django.conf import settings
from django.core.cache import cache
from django.utils.dateparse import parse_datetime
from replicate.__about__ import __version__ as replicate_version
from replicate.client import RetryTransport
from replicate.exceptions import ReplicateError

from core import failures
from core.exceptions import (  # InvalidWebhook: callers may still name replicate.InvalidWebhook
    InvalidWebhook,
    OutputGone,
    OutputUnusable,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)

TRANSIENT_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504}
WEBHOOK_TOLERANCE_SECONDS = 5 * 60
SECRET_CACHE_KEY = "replicate:webhook-secret"
SECRET_REFRESHED_KEY = "replicate:webhook-secret:refreshed"
SECRET_FAILED_KEY = "replicate:webhook-secret:failed"
DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
# How many pages of a list (newest first) `list_recent` reads at most: the list holds every
# training or prediction of the account, and what is looked for is recent.
LIST_MAX_PAGES = 20

logger = logging.getLogger(__name__)


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """httpx's default verification (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), built once per process.

    Building it loads the whole CA bundle, about 20 ms: per call, that was most of a generation
    job's worker time. A context is safe to share between clients and threads.
    """
    return httpx.create_ssl_context()


def client() -> replicate.Client:
    return replicate.Client(
        api_token=settings.REPLICATE_API_TOKEN,
        base_url=settings.REPLICATE_BASE_URL,
        timeout=httpx.Timeout(settings.REPLICATE_TIMEOUT, connect=10.0),
        transport=httpx.HTTPTransport(verify=ssl_context()),
    )


def http() -> httpx.Client:
    """Plain HTTP to the API, as the client calls it: its auth, base URL, timeouts and retries
    (the client's RetryTransport: idempotent requests on 429 and 5xx)."""
    return httpx.Client(
        base_url=settings.REPLICATE_BASE_URL,
        headers={
            "Authorization": f"Bearer {settings.REPLICATE_API_TOKEN}",
            "User-Agent": f"replicate-python/{replicate_version}",
        },
        timeout=httpx.Timeout(settings.REPLICATE_TIMEOUT, connect=10.0),
        transport=RetryTransport(wrapped_transport=httpx.HTTPTransport(verify=ssl_context())),
    )


def mapped_error(exc: Exception) -> ProviderError:
    """A provider error as transient (retry later) or permanent (tell the user, with its kind)."""
    if isinstance(exc, ReplicateError):
        status = exc.status
        detail = f"{exc.detail or exc.title or ''}".strip()
        message = f"Replicate answered {status}: {detail}".strip()
        if status in TRANSIENT_STATUSES or status is None:
            return TransientProviderError(message, status_code=status)
        return PermanentProviderError(message, status_code=status, kind=failures.classify(detail, status_code=status))
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status in TRANSIENT_STATUSES:
            return TransientProviderError(f"Replicate answered {status}", status_code=status)
        return PermanentProviderError(
            f"Replicate answered {status}", status_code=status, kind=failures.classify(status_code=status)
        )
    return TransientProviderError(f"Replicate unreachable: {type(exc).__name__}: {exc}"[:300])


CALL_ERRORS = (ReplicateError, httpx.HTTPError)


def request_json(method: str, path: str, **kwargs) -> dict:
    """A plain API call (see `http`); the answer must be a JSON object.

    Used where the client's models reject valid API data: 1.0.x refuses the `aborted` status.
    An error status is mapped as the client's errors are; a body that is not a JSON object (a
    proxy's error page, a cut-off answer) is a transient error.
    """
    try:
        with http() as api:
            response = api.request(method, path, **kwargs)
            if 400 <= response.status_code < 600:
                raise ReplicateError.from_response(response)
    except CALL_ERRORS as exc:
        raise mapped_error(exc) from exc
    try:
        payload = response.json()
    except ValueError as exc:
        raise TransientProviderError(f"Replicate answered {method} {path} with a body that is not JSON") from exc
    if not isinstance(payload, dict):
        raise TransientProviderError(f"Replicate answered {method} {path} with JSON that is not an object")
    return payload


def list_recent(path: str, *, since: datetime, max_pages: int = LIST_MAX_PAGES) -> Iterator[dict]:
    """The items of a list endpoint (newest first, as the API lists them), page after page by
    `next`, until they are older than `since` or the list ends.

    Reading `max_pages` pages without reaching `since` raises TransientProviderError: what is
    looked for may be further back, and answering "not found" could pay for a submission twice.
    """
    page_path = path
    for _ in range(max_pages):
        page = request_json("GET", page_path)
        results = page.get("results")
        for item in results if isinstance(results, list) else []:
            if not isinstance(item, dict):
                continue
            created = _created_at(item)
            if created is not None and created < since:
                return
            yield item
        following = page.get("next")
        if not isinstance(following, str) or not following:
            return
        # Only the path and query: the credentials go to the configured API, whatever `next` names.
        page_path = httpx.URL(following).raw_path.decode("ascii")
    logger.warning("replicate: %s still had items newer than %s after %d pages", path, since, max_pages)
    raise TransientProviderError(f"Replicate listed more than {max_pages} pages of {path} newer than {since}")


def json_object(value: object) -> dict:
    """A field of an answer that should be a JSON object: itself, or empty when it is not one."""
    return value if isinstance(value, dict) else {}


def _created_at(item: dict) -> datetime | None:
    try:
        return parse_datetime(item["created_at"]) if isinstance(item.get("created_at"), str) else None
    except ValueError:  # well formed, but not a date
        return None


def webhook_secret(*, refresh: bool = False) -> str:
    """The signing secret: from settings, or fetched from the API and cached for a bounded time.

    `refresh` fetches it again (a signature did not match: the secret may have been rotated), at
    most once per REPLICATE_SECRET_REFRESH_SECONDS; the new secret replaces the old one, which is
    then no longer accepted. A failed fetch is remembered briefly, so a burst of deliveries while
    the API is down costs one outbound call, not one each.
    """
    if settings.REPLICATE_WEBHOOK_SECRET:
        return settings.REPLICATE_WEBHOOK_SECRET
    secret = cache.get(SECRET_CACHE_KEY)
    if secret is not None and not (
        refresh and cache.add(SECRET_REFRESHED_KEY, 1, settings.REPLICATE_SECRET_REFRESH_SECONDS)
    ):
        return secret
    if cache.get(SECRET_FAILED_KEY):
        if secret is not None:
            return secret
        raise TransientProviderError("The webhook signing secret could not be fetched a moment ago")
    try:
        fetched = request_json("GET", "/v1/webhooks/default/secret").get("key")
        if not isinstance(fetched, str) or not fetched.startswith("whsec_"):
            raise TransientProviderError("Replicate answered the webhook secret with no whsec_ key")
    except ProviderError:
        cache.set(SECRET_FAILED_KEY, 1, settings.REPLICATE_SECRET_FAILURE_SECONDS)
        if secret is not None:
            return secret
        raise
    cache.set(SECRET_CACHE_KEY, fetched, settings.REPLICATE_SECRET_CACHE_SECONDS)
    return fetched


def verify_delivery(*, headers, body: bytes) -> str:
    """Check a webhook delivery against the account's signing secret; returns the webhook id.

    Unsigned requests are refused before any outbound call. A signature that does not match is
    checked once more against a freshly fetched secret (see webhook_secret).
    Raises InvalidWebhook, or TransientProviderError when the secret cannot be had.
    """
    require_signature_headers(headers)
    try:
        return verify_webhook(headers=headers, body=body, secret=webhook_secret())
    except InvalidWebhook as error:
        if not error.signature_mismatch:
            raise
        fresh = webhook_secret(refresh=True)
        return verify_webhook(headers=headers, body=body, secret=fresh)


def require_signature_headers(headers) -> None:
    if not all(headers.get(name) for name in ("webhook-id", "webhook-timestamp", "webhook-signature")):
        raise InvalidWebhook("missing webhook headers")


@contextmanager
def open_output(url: str, *, max_bytes: int) -> Iterator[IO[bytes]]:
    """An output file of a training or prediction, as a reader bounded to max_bytes.

    Outputs are public, unguessable HTTPS URLs (no credentials are sent with them) or, as the
    client accepts, data: URIs. Raises OutputGone (404/410: the provider deleted it), OutputUnusable
    (another kind of address, or too large), TransientProviderError (the download failed).
    """
    if url.startswith("data:"):
        yield io.BytesIO(decode_data_uri(url, max_bytes=max_bytes))
        return
    if not url.startswith(("https://", "http://")):
        raise OutputUnusable(f"The provider returned an output we cannot read ({url[:40]!r}).")
    try:
        with (
            httpx.Client(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True, verify=ssl_context()) as http,
            http.stream("GET", url) as response,
        ):
            if response.status_code in (404, 410):
                raise OutputGone("The provider no longer has this output (it deletes outputs after an hour).")
            if response.status_code != 200:
                raise mapped_error(httpx.HTTPStatusError("output", request=response.request, response=response))
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise OutputUnusable(f"An output is larger than {max_bytes // (1024 * 1024)} MB.")
            # A raw binary reader: what the callers read (read, readinto), typed as the IO they take.
            yield cast(IO[bytes], BoundedReader(response.iter_bytes(1024 * 1024), max_bytes))
    except httpx.HTTPError as exc:
        # Raised while the caller reads (a reset or a timeout mid-download) as well as before.
        raise mapped_error(exc) from exc


def decode_data_uri(url: str, *, max_bytes: int) -> bytes:
    header, comma, data = url.partition(",")
    if not comma:
        raise OutputUnusable("The provider returned a data: URI without data.")
    # Decoded base64 is 3/4 of its text: refuse an oversized one before decoding it.
    if len(data) * 3 // 4 > max_bytes + 3:
        raise OutputUnusable(f"An output is larger than {max_bytes // (1024 * 1024)} MB.")
    try:
        content = base64.b64decode(data, validate=True) if header.endswith(";base64") else unquote_to_bytes(data)
    except (binascii.Error, ValueError) as exc:
        raise OutputUnusable("The provider returned a data: URI that does not decode.") from exc
    if len(content) > max_bytes:
        raise OutputUnusable(f"An output is larger than {max_bytes // (1024 * 1024)} MB.")
    return content


class BoundedReader(io.RawIOBase):
    """A file-like reader over downloaded chunks that refuses to read past max_bytes."""

    def __init__(self, chunks: Iterator[bytes], max_bytes: int):
        self._chunks = chunks
        self._buffer = b""
        self._read = 0
        self._max = max_bytes

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size is None or size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._read += len(chunk)
            if self._read > self._max:
                raise OutputUnusable(f"An output is larger than {self._max // (1024 * 1024)} MB.")
            self._buffer += chunk
        if size is None or size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def readinto(self, target) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)


def verify_webhook(*, headers, body: bytes, secret: str, now: float | None = None) -> str:
    """Check a Standard Webhooks signature and timestamp; returns the webhook id."""
    require_signature_headers(headers)
    webhook_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    signatures = headers["webhook-signature"]
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise InvalidWebhook("bad timestamp") from exc
    if abs((now or time.time()) - sent_at) > WEBHOOK_TOLERANCE_SECONDS:
        raise InvalidWebhook("stale or future timestamp")
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"))
    except ValueError as exc:
        raise InvalidWebhook("bad secret") from exc
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split():
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return webhook_id
    raise InvalidWebhook("signature does not match", signature_mismatch=True)
