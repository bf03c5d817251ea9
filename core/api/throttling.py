"""DRF's request throttles, counting where core.ratelimit counts: in the shared rate-limit cache,
or per process while it is down (DRF's own count in the default cache, which reads an outage as
empty, so the throttles switched off with Redis)."""

from rest_framework import throttling

from core.ratelimit import limit_cache


# LimitCache is not a BaseCache: it has the operations the throttles call (get, set), no more.
class AnonRateThrottle(throttling.AnonRateThrottle):
    cache = limit_cache  # type: ignore[assignment]


class UserRateThrottle(throttling.UserRateThrottle):
    cache = limit_cache  # type: ignore[assignment]
