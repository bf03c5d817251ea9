"""Replicate: the only module that imports the replicate SDK. Owns the client, timeouts, error
mapping and webhook signature checks (Standard Webhooks)."""

import base64
import functools
import hashlib
import hmac
import ssl
import time

import httpx
import replicate
from django.conf import settings
from django.core.cache import cache
from replicate.exceptions import ReplicateError

from core.exceptions import PermanentProviderError, ProviderError, TransientProviderError

TRANSIENT_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504}
WEBHOOK_TOLERANCE_SECONDS = 5 * 60
SECRET_CACHE_KEY = "replicate:webhook-secret"


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """httpx's default verification (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), built once per process.

    Building it loads the whole CA bundle, about 20 ms: per call, that was most of a generation
    job's worker time. A context is safe to share between clients and threads.
    """
    return httpx.create_ssl_context()


def client() -> replicate.Client:
    timeout = httpx.Timeout(settings.REPLICATE_TIMEOUT, connect=10.0)
    return replicate.Client(
        api_token=settings.REPLICATE_API_TOKEN,
        base_url=settings.REPLICATE_BASE_URL,
        timeout=timeout,
        transport=httpx.HTTPTransport(verify=ssl_context()),
    )


def mapped_error(exc: Exception) -> ProviderError:
    """A provider error as transient (retry later) or permanent (tell the user)."""
    if isinstance(exc, ReplicateError):
        status = exc.status
        error_class = (
            TransientProviderError if status in TRANSIENT_STATUSES or status is None else PermanentProviderError
        )
        return error_class(f"Replicate answered {status}: {exc.detail or exc.title or ''}".strip(), status_code=status)
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        error_class = TransientProviderError if status in TRANSIENT_STATUSES else PermanentProviderError
        return error_class(f"Replicate answered {status}", status_code=status)
    return TransientProviderError(f"Replicate unreachable: {exc}")


CALL_ERRORS = (ReplicateError, httpx.HTTPError)


def request_json(method: str, path: str, **kwargs) -> dict:
    """A raw API call through the real client (its auth, base URL and retries).

    Used where the client's models reject valid API data: 1.0.x refuses the `aborted` status.
    """
    try:
        response = client()._request(method, path, **kwargs)
    except CALL_ERRORS as exc:
        raise mapped_error(exc) from exc
    return response.json()


def webhook_secret() -> str:
    """The signing secret: from settings, or fetched once from the API and cached for a day."""
    if settings.REPLICATE_WEBHOOK_SECRET:
        return settings.REPLICATE_WEBHOOK_SECRET
    secret = cache.get(SECRET_CACHE_KEY)
    if secret is None:
        secret = request_json("GET", "/v1/webhooks/default/secret")["key"]
        cache.set(SECRET_CACHE_KEY, secret, 24 * 3600)
    return secret


class InvalidWebhook(Exception):
    pass


def verify_webhook(*, headers, body: bytes, secret: str, now: float | None = None) -> str:
    """Check a Standard Webhooks signature and timestamp; returns the webhook id."""
    webhook_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (webhook_id and timestamp and signatures):
        raise InvalidWebhook("missing webhook headers")
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
    raise InvalidWebhook("signature does not match")
