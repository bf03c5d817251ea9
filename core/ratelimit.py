"""How often one client address or one user may do something costly or abusable: sign up, ask for
a password reset, create API tokens, start generations.

Counts live in the "ratelimit" cache (Redis in production, so all web processes share them) in
fixed windows; the rates come from settings.RATE_LIMITS as "count/period" (second, minute, hour or
day). While that cache fails (Redis down), each process counts on its own with the same limits, so
limits hold through an outage (per process, so up to one limit per process) instead of switching off.
The API's request throttles (core.api.throttling) count in the same place.
"""

import contextlib
import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from functools import wraps

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import ngettext
from rest_framework.exceptions import Throttled
from rest_framework.request import Request

logger = logging.getLogger(__name__)

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
# During an outage the shared cache is tried again this often (seconds), not on every request:
# a cache that times out would otherwise add its timeout to each one.
RETRY_SHARED_AFTER = 5.0
# Counters one process keeps during an outage; past it the oldest third is dropped (bounded memory).
FALLBACK_MAX_ENTRIES = 20_000


class LimitCache:
    """The shared rate-limit cache, or a per-process, thread-safe stand-in while it raises.

    Only what counting needs: add, incr, get, set. The shared cache must raise when it is down
    (a plain RedisCache, not django-redis with IGNORE_EXCEPTIONS, which reads an outage as a miss).
    """

    def __init__(self, alias: str = "ratelimit"):
        self.alias = alias
        self.local = LocMemCache(
            "ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES, "CULL_FREQUENCY": 3}}
        )
        self._lock = threading.Lock()
        self._retry_at = 0.0  # time.monotonic() of the next try of the shared cache, while down
        self._down = False

    def _run(self, operation: str, *args, **kwargs):
        if time.monotonic() >= self._retry_at:
            try:
                result = getattr(caches[self.alias], operation)(*args, **kwargs)
            except ValueError:
                raise  # incr of a missing key: an answer, not an outage
            except Exception as error:  # noqa: BLE001 - whatever the backend raises, limits must hold
                self._outage(error)
            else:
                if self._down:
                    self._recovered()
                return result
        return getattr(self.local, operation)(*args, **kwargs)

    def _outage(self, error: Exception) -> None:
        with self._lock:
            self._retry_at = time.monotonic() + RETRY_SHARED_AFTER
            first = not self._down
            self._down = True
        if first:  # once per outage, not once per request
            logger.warning(
                "rate-limit cache unavailable (%s: %s): counting per process until it answers",
                type(error).__name__,
                error,
            )

    def _recovered(self) -> None:
        with self._lock:
            was_down, self._down = self._down, False
        if was_down:
            logger.info("rate-limit cache answers again: counting in it")

    def add(self, key, value, timeout=None) -> bool:
        return self._run("add", key, value, timeout=timeout)

    def incr(self, key, delta=1) -> int:
        return self._run("incr", key, delta)

    def get(self, key, default=None):
        return self._run("get", key, default)

    def set(self, key, value, timeout=None) -> None:
        self._run("set", key, value, timeout=timeout)

    def clear(self) -> None:
        """Both stores, and any outage state: for tests and the fuzzer between examples (on Redis,
        Django's clear() empties the whole database)."""
        self.local.clear()
        with self._lock:
            self._retry_at, self._down = 0.0, False
        with contextlib.suppress(Exception):  # nothing to clear in a cache that is down
            caches[self.alias].clear()


limit_cache = LimitCache()


def parse_rate(rate: str) -> tuple[int, int]:
    """'5/hour' -> (5, 3600)."""
    count, _, period = rate.partition("/")
    try:
        allowed, seconds = int(count), PERIODS[period.strip()]
    except (ValueError, KeyError):
        raise ImproperlyConfigured(
            f"Rate {rate!r}: write it as count/period, the period one of {list(PERIODS)}."
        ) from None
    if allowed < 1:
        raise ImproperlyConfigured(f"Rate {rate!r}: allow at least one.")
    return allowed, seconds


def check_rates() -> None:
    for rate in settings.RATE_LIMITS.values():
        parse_rate(rate)


def hit(*, scope: str, ident: str) -> int:
    """Count one attempt; returns 0 when it is allowed, else the seconds until it would be."""
    allowed, period = parse_rate(settings.RATE_LIMITS[scope])
    now = time.time()
    window = int(now // period)
    # Hashed: the key holds no address or email in clear, and stays a valid cache key.
    key = f"ratelimit:{scope}:{hashlib.sha256(ident.encode()).hexdigest()[:32]}:{window}"
    limit_cache.add(key, 0, timeout=period + 1)
    try:
        count = limit_cache.incr(key)
    except ValueError:  # expired between add and incr
        limit_cache.set(key, 1, timeout=period + 1)
        count = 1
    if count <= allowed:
        return 0
    return max(1, math.ceil((window + 1) * period - now))


def client_address(request) -> str:
    # The same address the log-in lockout (django-axes) counts, proxies included.
    return get_client_ip_address(request) or "unknown"


def by_ip(request) -> str:
    return f"ip:{client_address(request)}"


def by_user(request) -> str:
    """The user when logged in, else the client address."""
    return f"user:{request.user.pk}" if request.user.is_authenticated else by_ip(request)


def rate_limit(scope: str, *, key: Callable[[object], str] = by_ip, methods: tuple[str, ...] = ("POST",)):
    """Refuse a view's `methods` past the scope's rate: 429 with Retry-After, a page or the API's error.

    Works on function views and on the methods of DRF views (the API and the website share the
    scope's count, so switching between them gains nothing).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            request = args[0] if isinstance(args[0], HttpRequest | Request) else args[1]
            if request.method in methods:
                wait = hit(scope=scope, ident=key(request))
                if wait:
                    logger.warning("rate limit %s reached by %s", scope, client_address(request))
                    return refuse(request, wait)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def refuse(request, wait: int):
    minutes = math.ceil(wait / 60)
    message = ngettext(
        "Too many attempts. Please wait %(minutes)d minute and try again.",
        "Too many attempts. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}
    if isinstance(request, Request):
        raise Throttled(wait=wait, detail=message)
    response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(wait)
    return response
