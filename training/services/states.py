"""A run's way through its statuses, as one state machine.

Every status change of a run is a core.lifecycle.transition (conditional on the statuses it may
leave, forward only). A run moves on with `run_advance`; it ends only through `run_end`, the one
place that decides "done": the terminal status (succeeded, failed, canceled) and, in the same
commit, the project freed, the owner's email queued and the provider told to stop.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from core import failures
from core.lifecycle import transition
from projects import services as project_services
from projects.events import event_record
from projects.models import ProjectEvent
from training.models import TrainingRun
from training.tasks import cancel_at_provider, notify_owner

logger = logging.getLogger(__name__)

# Statuses in which the provider may be working on (and billing) a run we end on our side.
PROVIDER_WORKS = (TrainingRun.Status.SUBMITTING, TrainingRun.Status.STARTING, TrainingRun.Status.TRAINING)


def state_deadline(run: TrainingRun) -> datetime:
    """When the run's current status runs out (see settings.TRAINING_STATE_DEADLINE_MINUTES)."""
    return run.state_changed_at + timedelta(minutes=settings.TRAINING_STATE_DEADLINE_MINUTES[run.status])


def out_of_attempts(run: TrainingRun) -> bool:
    return run.attempts > settings.TRAINING_STEP_ATTEMPTS


def run_advance(
    *, run_id: int, sources: Iterable[str], to: str | None = None, where: Q | None = None, **fields: Any
) -> bool:
    """Move an active run on to the active status `to` (None: stay, and only write `fields`), if it
    is still in one of `sources` (and matches `where`); whether it did. Entering a status starts
    its deadline, its step's attempts and its polls anew. A move, or a progress that grew, is a
    TRAINING_PROGRESS event (once: a repeated report changes neither)."""
    if to is not None:
        if to in TrainingRun.TERMINAL:
            raise ValueError("a run ends through run_end")
        fields = {"polls": 0, **fields}
    runs = TrainingRun.objects.filter(id=run_id)
    if where is not None:
        runs = runs.filter(where)
    sources = list(sources)
    with transaction.atomic():
        progressed = False
        if to is None and fields.get("progress") is not None:
            # Conditional on the progress itself, so that of two equal reports only one is an event.
            progressed = bool(
                runs.filter(status__in=sources, progress__lt=fields["progress"]).update(progress=fields["progress"])
            )
        won = transition(runs, sources=sources, to=to, **fields)
        if won and (to is not None or progressed):
            run = TrainingRun.objects.filter(id=run_id).values("project_id", "status", "progress").get()
            event_record(
                project_id=run["project_id"],
                kind=ProjectEvent.Kind.TRAINING_PROGRESS,
                run=run_id,
                status=run["status"],
                progress=run["progress"],
            )
    return won


def run_end(
    *,
    run_id: int,
    sources: Iterable[str],
    status: str,
    stop_provider: bool = False,
    actor: User | None = None,
    **fields: Any,
) -> bool:
    """End a run that is in one of `sources` with the terminal `status`, and put its project back in
    a usable state, in one commit: a worker killed in between would leave the project "training"
    for good. The owner is emailed how it went, unless they canceled it themselves. Whether it won
    (a run that had ended already, or moved on meanwhile, is left alone and nothing follows).

    `stop_provider`: we end it while the provider may still work on it (a deadline, retries that
    ran out): a best-effort task then cancels whatever training the run has there. `actor`: who
    ended it (a cancel), None for the system; the end is a TRAINING_ENDED event.
    """
    if status not in TrainingRun.TERMINAL:
        raise ValueError(f"{status!r} does not end a run")
    with transaction.atomic():
        ended = transition(TrainingRun.objects.filter(id=run_id), sources=sources, to=status, **fields)
        if ended:
            _after_end(run_id=run_id, actor=actor)
            if stop_provider:
                cancel_at_provider.delay_on_commit(run_id)
    return ended


def _after_end(*, run_id: int, actor: User | None = None) -> None:
    """Put the project back in a usable state and tell the owner how it went."""
    run = TrainingRun.objects.select_related("project").get(id=run_id)
    project = run.project
    event_record(
        project_id=project.id, kind=ProjectEvent.Kind.TRAINING_ENDED, actor=actor, run=run_id, status=run.status
    )
    trained = project.training_runs.filter(status=TrainingRun.Status.SUCCEEDED).exists()
    project_services.project_release(project_id=project.id, trained=trained)
    if run.error_kind != failures.Kind.USER_CANCELED:
        notify_owner.delay_on_commit(run_id)


def to_announce() -> Q:
    """Ended runs whose owner gets an email: all but the ones the user canceled."""
    return Q(status__in=TrainingRun.TERMINAL) & ~Q(error_kind=failures.Kind.USER_CANCELED)


def training_fail(*, run_id: int, message: str, kind: str = failures.Kind.UNKNOWN, stop_provider: bool = False) -> bool:
    """End an active run as failed, with the message the user reads."""
    return run_end(
        run_id=run_id,
        sources=TrainingRun.ACTIVE,
        status=TrainingRun.Status.FAILED,
        stop_provider=stop_provider,
        error=message,
        error_kind=kind,
        completed_at=timezone.now(),
    )


def fail_with(run_id: int, kind: str, *, detail: str = "", stop_provider: bool = False) -> bool:
    """End an active run as failed with the explanation of a failure kind (core.failures)."""
    message = failures.explain(failures.Kind(kind), subject="training", detail=detail[:300])
    return training_fail(run_id=run_id, message=message, kind=kind, stop_provider=stop_provider)


def succeed(*, run: TrainingRun, reason: str = "") -> bool:
    """End a publishing run whose LoRA is in our storage as succeeded. `reason`: why it has no
    Hugging Face copy, if it has none (the model is usable all the same)."""
    fields: dict[str, Any] = {}
    if reason:
        logger.warning("training %s: published without a Hub copy: %s", run.id, reason)
        fields["last_error"] = f"No Hugging Face copy: {reason}"[:500]
    return run_end(
        run_id=run.id,
        sources=[TrainingRun.Status.PUBLISHING],
        status=TrainingRun.Status.SUCCEEDED,
        progress=100,
        completed_at=timezone.now(),
        **fields,
    )


def succeed_without_hub(run: TrainingRun, *, reason: str = "") -> bool:
    """The LoRA is in our storage but the Hub copy could not be made: the model is usable all the same."""
    return succeed(run=run, reason=reason or run.last_error or "the Hub kept failing")
