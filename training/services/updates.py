"""What the provider reports about a run (webhooks and polling) and how it moves the run."""

import logging
import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core import failures
from training.backends.base import ProviderTraining
from training.models import TrainingRun
from training.providers import backend_for
from training.selectors import training_cost
from training.services.deadlines import training_expire
from training.services.states import run_advance, run_end, state_deadline
from training.tasks import publish_lora, sync_training

logger = logging.getLogger(__name__)

PROVIDER_STATUS = {
    "starting": TrainingRun.Status.STARTING,
    "processing": TrainingRun.Status.TRAINING,
    "succeeded": TrainingRun.Status.PUBLISHING,
    "failed": TrainingRun.Status.FAILED,
    "canceled": TrainingRun.Status.CANCELED,
    "aborted": TrainingRun.Status.FAILED,
}
STEP_PATTERN = re.compile(r"(\d+)/(\d+) \[")
LOSS_PATTERN = re.compile(r"loss: ([0-9.]+(?:e[-+]?\d+)?)")
LOG_TAIL_LINES = 30


def _progress(logs: str) -> tuple[int | None, list[list[float]]]:
    percent, points = None, []
    for line in logs.splitlines():
        step = STEP_PATTERN.search(line)
        if step:
            done, total = int(step.group(1)), int(step.group(2))
            if total:
                percent = min(99, int(100 * done / total))
            loss = LOSS_PATTERN.search(line)
            if loss:
                try:
                    points.append([done, float(loss.group(1))])
                except ValueError:
                    continue
    return percent, points[-200:]


def _provider_failure(training: ProviderTraining) -> tuple[str, str]:
    """(kind, message) for a training the provider ended without success."""
    if training.status == "aborted":
        return failures.Kind.DEADLINE, failures.ABORTED["training"]
    if training.status == "canceled":
        return failures.Kind.PROVIDER_CANCELED, failures.explain(failures.Kind.PROVIDER_CANCELED, subject="training")
    # A trainer's error is often a bare "Training failed"; its logs' last lines say why.
    kind = failures.classify(training.error or "")
    if kind == failures.Kind.UNKNOWN:
        kind = failures.classify("\n".join((training.logs or "").splitlines()[-5:]))
    if kind in (failures.Kind.PROVIDER_DOWN, failures.Kind.EXPIRED_OUTPUTS):
        kind = failures.Kind.UNKNOWN
    return kind, failures.explain(kind, subject="training", detail=failures.reason_of(training.error))


def _reported(run: TrainingRun, training: ProviderTraining) -> dict[str, Any]:
    """The fields of the run the provider's report updates, whatever its status does."""
    fields: dict[str, Any] = {"last_event_at": timezone.now()}
    percent, points = _progress(training.logs or "")
    if percent is not None and percent > run.progress:
        fields["progress"] = percent
    if points:
        fields["loss_points"] = points
    if training.logs:
        fields["log_tail"] = "\n".join(training.logs.splitlines()[-LOG_TAIL_LINES:])[-20_000:]
    if training.gpu_seconds is not None:
        fields["gpu_seconds"] = training.gpu_seconds
        fields["actual_cost"] = training_cost(training.gpu_seconds, simulated=run.simulated)
    if training.version:
        fields["provider_version"] = training.version
    return fields


def _provider_end(run: TrainingRun, training: ProviderTraining, status: str) -> dict[str, Any]:
    """How a run the provider ended without success ends: its status, error and kind."""
    if run.error_kind == failures.Kind.USER_CANCELED:
        # The user's cancel reached the provider before we recorded it: theirs, not the provider's.
        return {
            "status": TrainingRun.Status.CANCELED,
            "error": failures.explain(failures.Kind.USER_CANCELED, subject="training"),
        }
    kind, message = _provider_failure(training)
    if kind == failures.Kind.PROVIDER_CANCELED:
        status = TrainingRun.Status.CANCELED
    return {"status": status, "error_kind": kind, "error": message}


def training_apply_update(*, run_id: int, training: ProviderTraining) -> None:
    """Apply what the provider reports, as one state machine. Monotonic: a late or repeated update
    never moves a run back; statuses we do not know change nothing (the status' deadline still
    ends the run). A training that succeeded moves the run to publishing (its LoRA is fetched
    next); one that failed or was canceled ends the run (run_end)."""
    run = TrainingRun.objects.filter(id=run_id).first()
    if run is None or run.is_terminal or run.status == TrainingRun.Status.PUBLISHING:
        return
    reported = PROVIDER_STATUS.get(training.status)
    if reported is None:
        logger.warning("training %s: unknown provider status %r", run_id, training.status[:40])
        return
    fields = _reported(run, training)
    moves = TrainingRun.rank(reported) > TrainingRun.rank(run.status)
    if moves and reported in TrainingRun.TERMINAL:
        fields.update(_provider_end(run, training, reported), completed_at=timezone.now())
        run_end(run_id=run_id, sources=[run.status], **fields)
        return
    if reported == TrainingRun.Status.PUBLISHING:
        fields["progress"] = 100
    # Conditional on the status read above: when another update got there first, it did the follow-up.
    advanced = run_advance(run_id=run_id, sources=[run.status], to=reported if moves else None, **fields)
    if advanced and reported == TrainingRun.Status.PUBLISHING:
        publish_lora.delay_on_commit(run_id)


def _poll_delay(run: TrainingRun) -> float:
    """Doubles with each real poll in the status, up to the status' cap."""
    cap = settings.TRAINING_POLL_MAX_SECONDS.get(run.status, settings.TRAINING_POLL_SECONDS)
    return min(settings.TRAINING_POLL_SECONDS * 2 ** min(run.polls, 16), cap)


def training_sync(*, run_id: int) -> None:
    """Poll the provider for a run (covers lost webhooks); ends runs past their status' deadline.

    The poll claims its slot with a conditional update (the poll count it read), so duplicate
    sync messages (the reconcile re-sending while a worker is busy) make one provider request.
    """
    now = timezone.now()
    run = TrainingRun.objects.filter(
        id=run_id,
        status__in=[TrainingRun.Status.STARTING, TrainingRun.Status.TRAINING],
        provider_training_id__isnull=False,
    ).first()
    if run is None or run.provider_training_id is None:
        return
    if now > state_deadline(run):
        training_expire(run_id=run.id)
        return
    claimed = (
        TrainingRun.objects.filter(id=run.id, status=run.status, polls=run.polls)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now + timedelta(seconds=0.5)))
        .update(polls=run.polls + 1, next_poll_at=now + timedelta(seconds=_poll_delay(run)))
    )
    if not claimed:
        return
    training_apply_update(run_id=run.id, training=backend_for(run.backend).fetch(provider_id=run.provider_training_id))


def training_repoll(*, run_id: int) -> bool:
    """Poll an active run now (operators)."""
    moved = TrainingRun.objects.filter(
        id=run_id, status__in=[TrainingRun.Status.STARTING, TrainingRun.Status.TRAINING]
    ).update(next_poll_at=timezone.now())
    if moved:
        sync_training.delay_on_commit(run_id)
    return bool(moved)
