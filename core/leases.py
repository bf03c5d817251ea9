"""Leases: at most one live attempt works on a run's or job's provider step at a time.

An attempt claims the lease with a conditional update before calling the provider. The lease is
free once it has run out (the attempt's worker was killed: nothing else would ever free it), or
when the claimant is the same task (Celery redelivers a message whose worker died with its own
task id). An attempt that ends with an error frees its lease so that its retry can go at once.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

FREE = {"lease_until": None, "lease_holder": ""}


def new_attempt() -> str:
    return uuid.uuid4().hex


def lease_seconds(task_name: str) -> int:
    """A lease outlasts its task's hard time limit, so a live attempt always holds it."""
    return settings.PROVIDER_TASK_TIME_LIMITS[task_name] + 15


def lease_claim(queryset: QuerySet, *, holder: str, seconds: int) -> bool:
    """Take the lease; each claim counts one try of the step in the row's `attempts`, across every
    message, retry and re-drive, so that a step's attempt budget is a true bound."""
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_holder=holder)
    return bool(
        queryset.filter(free).update(
            lease_until=now + timedelta(seconds=seconds), lease_holder=holder, attempts=F("attempts") + 1
        )
    )


def lease_expired() -> Q:
    """Rows whose lease is free: never taken, released, or run out."""
    return Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now())


@contextmanager
def released_on_error(queryset: QuerySet, *, holder: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        queryset.filter(lease_holder=holder).update(**FREE)
        raise
