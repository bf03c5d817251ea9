"""The life shared by a training run and a generation job: a row that moves forward through its
statuses, one step at a time, each step with a deadline (from `state_changed_at`), a budget of
attempts and a lease (core.leases), until it ends in a terminal status.

`Lifecycle` holds the fields and the sets; `transition` is the one way a row changes status.
"""

from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from core.demo import DEMO_BACKEND
from core.leases import FREE


class Lifecycle(models.Model):
    """Abstract: the lifecycle fields of a run or job. A subclass defines its `status` field (with
    its own choices), its `backend` field, and its ACTIVE and TERMINAL statuses, ACTIVE in the
    order a row goes through them (that order is the rank `transition` keeps rows moving forward in)."""

    ACTIVE: ClassVar[tuple[str, ...]] = ()
    TERMINAL: ClassVar[tuple[str, ...]] = ()

    # What kind of failure ended it (core.failures.Kind), "" while it runs or when it succeeded.
    error_kind = models.CharField(max_length=32, blank=True)
    # When it entered its status (or phase): each has its own deadline from then, and `attempts`
    # counts the tries of its step.
    state_changed_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The latest error a step met (kept for operators and for the message if it ends on it).
    last_error = models.CharField(max_length=500, blank=True)
    # The attempt working on the current step and until when: see core.leases.
    lease_holder = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    # Declared by every subclass (their choices and help texts differ).
    status: str
    backend: str

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def simulated(self) -> bool:
        """Demo-mode work: nothing of it is ever charged or counted as spend."""
        return self.backend == DEMO_BACKEND

    @classmethod
    def rank(cls, status: str) -> int:
        """Position in the life of a row: the active statuses in order, then every terminal one."""
        if status in cls.ACTIVE:
            return cls.ACTIVE.index(status)
        if status in cls.TERMINAL:
            return len(cls.ACTIVE)
        raise ValueError(f"{status!r} is not a status of {cls.__name__}")


M = TypeVar("M", bound=Lifecycle)


def transition(queryset: QuerySet[M], *, sources: Iterable[str], to: str | None = None, **fields: Any) -> bool:
    """Move the rows of `queryset` that are in one of `sources` to status `to`, in one conditional
    UPDATE, and say whether it won (some row was in a source status and moved).

    The contract:
    - Conditional: only rows whose status is one of `sources` (what the caller read, or the
      statuses it may end from) change; a row another worker moved meanwhile is left alone, and
      the caller, having lost, does no follow-up (no task, no email).
    - Forward only: a source that does not rank below `to` (Lifecycle.rank) is dropped, so a late
      or repeated update never moves a row back, and a terminal row never moves again.
    - Entering `to` sets `state_changed_at` to now (its deadline starts) and `attempts` to 0 (its
      step's budget starts anew); entering a terminal status also frees the lease. Any of these
      given in `fields` wins (e.g. `attempts=F("attempts")` keeps the budget across the move).
    - `to=None` keeps the status and only writes `fields`, conditional on `sources` all the same.
    - `fields` are written in the same UPDATE.
    It only writes the row: follow-ups (a task, an email, the project) are the caller's, inside
    the same transaction when they must commit together.
    """
    model: type[Lifecycle] = queryset.model
    sources = list(sources)
    values: dict[str, Any] = {}
    if to is not None:
        sources = [source for source in sources if model.rank(source) < model.rank(to)]
        values = {"status": to, "state_changed_at": timezone.now(), "attempts": 0}
        if to in model.TERMINAL:
            values.update(FREE)
    if not sources:
        return False
    return bool(queryset.filter(status__in=sources).update(**{**values, **fields}))
