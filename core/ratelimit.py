"""How often one client address or one user may do something costly or abusable: sign up, ask for
a password reset, create API tokens, start generations.

Counts live in the cache (Redis in production, so all web processes share them) in fixed windows;
the rates come from settings.RATE_LIMITS as "count/period" (second, minute, hour or day).
"""

import hashlib
import logging
import math
import time
from collections.abc import Callable
from functools import wraps

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.shortcuts import render
from rest_framework.exceptions import Throttled
from rest_framework.request import Request

logger = logging.getLogger(__name__)

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


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
    cache.add(key, 0, timeout=period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period + 1)
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
    message = f"Too many attempts. Please wait {minutes} minute{'s' if minutes > 1 else ''} and try again."
    if isinstance(request, Request):
        raise Throttled(wait=wait, detail=message)
    response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(wait)
    return response
