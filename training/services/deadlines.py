"""When a run's step runs out: of time (its status' deadline), of attempts (its step's budget) or
of retries (its task gave up). Each ends the run through run_end, or leaves it to the reconcile
task when the provider may hold its training."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core import failures
from core.exceptions import PermanentProviderError, ProviderError
from training.models import TrainingRun
from training.providers import backend_for
from training.services.states import PROVIDER_WORKS, fail_with, run_end, succeed_without_hub

logger = logging.getLogger(__name__)


def overdue() -> Q:
    """Active runs whose status' deadline has passed."""
    now = timezone.now()
    late = Q(pk__in=[])
    for status, minutes in settings.TRAINING_STATE_DEADLINE_MINUTES.items():
        late |= Q(status=status, state_changed_at__lt=now - timedelta(minutes=minutes))
    return late


def training_expire(*, run_id: int) -> bool:
    """End a run whose status ran past its deadline, with what went wrong in that status.

    The end is decided here, in the database alone: no provider answer can hold it up. Stopping
    whatever the provider still runs for it is best effort, in a task of its own.
    """
    run = TrainingRun.objects.filter(overdue(), id=run_id, status__in=TrainingRun.ACTIVE).first()
    if run is None:
        return False
    if run.status == TrainingRun.Status.PUBLISHING and run.lora_file:
        return succeed_without_hub(run)
    minutes = settings.TRAINING_STATE_DEADLINE_MINUTES[run.status]
    message = failures.TRAINING_DEADLINES[run.status].format(minutes=minutes)
    ended = run_end(
        run_id=run.id,
        sources=[run.status],
        status=TrainingRun.Status.FAILED,
        stop_provider=run.status in PROVIDER_WORKS,
        error=failures.with_last_error(message, run.last_error),
        error_kind=failures.Kind.DEADLINE,
        completed_at=timezone.now(),
    )
    logger.warning("training %s: %s ran past its %s-minute deadline", run.id, run.status, minutes)
    return ended


def give_up_step(run: TrainingRun) -> None:
    """The run's step used its attempt budget: end the run with what went wrong."""
    logger.warning("training %s: %s used its %s attempts", run.id, run.status, settings.TRAINING_STEP_ATTEMPTS)
    if run.status == TrainingRun.Status.PUBLISHING and run.lora_file:
        succeed_without_hub(run)
        return
    template = failures.TRAINING_EXHAUSTED.get(run.status, failures.TRAINING_EXHAUSTED["submitting"])
    message = template.format(attempts=settings.TRAINING_STEP_ATTEMPTS) + " Retry it later."
    run_end(
        run_id=run.id,
        sources=[run.status],
        status=TrainingRun.Status.FAILED,
        stop_provider=run.status in PROVIDER_WORKS,
        error=failures.with_last_error(message, run.last_error),
        error_kind=failures.kind_of_last_error(run.last_error),
        completed_at=timezone.now(),
    )


def training_note_error(*, run_id: int, error: Exception) -> None:
    """Remember the latest error a step met (operators; and the message if the run ends on it)."""
    TrainingRun.objects.filter(id=run_id, status__in=TrainingRun.ACTIVE).update(last_error=str(error)[:500])


def training_give_up(*, run_id: int, error: Exception) -> None:
    """A task ran out of retries (or met a permanent error) on a run.

    Permanent errors end the run now with their message. After transient ones, a run the provider
    has (or may have) taken, or whose LoRA waits at the provider, is left to the reconcile task,
    which re-drives it within its status' deadline and attempt budget; the others fail now.
    """
    run = TrainingRun.objects.filter(id=run_id, status__in=TrainingRun.ACTIVE).first()
    if run is None:
        return
    training_note_error(run_id=run_id, error=error)
    if isinstance(error, PermanentProviderError):
        fail_with(run_id, error.kind, detail=str(error), stop_provider=run.status in PROVIDER_WORKS)
        return
    if run.status == TrainingRun.Status.SUBMITTING and run.dataset_url:
        # Submitting failed every time; a timed-out attempt may still have got through.
        try:
            taken = backend_for(run.backend).find_submitted(dataset_url=run.dataset_url) is not None
        except ProviderError:
            taken = True
    else:
        taken = run.status != TrainingRun.Status.QUEUED
    if taken:
        logger.warning("training %s: retries ran out (%s); the reconcile task will try again", run_id, error)
    else:
        kind = getattr(error, "kind", failures.Kind.PROVIDER_DOWN)
        fail_with(run_id, kind, detail="" if kind == failures.Kind.INTERNAL else str(error))
