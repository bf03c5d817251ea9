from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, F, When
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from training.models import TrainingRun


def run_list_for_user(*, user: User):
    return TrainingRun.objects.filter(project__owner=user).select_related("project").order_by("-created_at", "-id")


def run_get_for_user(*, user: User, run_id: int) -> TrainingRun:
    """The user's run, or 404."""
    return get_object_or_404(TrainingRun.objects.select_related("project"), project__owner=user, id=run_id)


def trained_models_for_user(*, user: User):
    return run_list_for_user(user=user).filter(status=TrainingRun.Status.SUCCEEDED)


def runs_for_project(*, project):
    return TrainingRun.objects.filter(project=project).order_by("-created_at", "-id")


def _ticks(low: float, high: float, count: int) -> list[float]:
    if high == low:
        return [low]
    return [low + (high - low) * i / (count - 1) for i in range(count)]


def loss_chart(*, run: TrainingRun) -> dict | None:
    """The loss curve as an SVG with labelled axes and a sentence for those who cannot see it; None without data.

    Coordinates are in a fixed 600×200 box: the plot sits inside margins that hold the tick labels.
    """
    points = run.loss_points or []
    if len(points) < 2:
        return None
    width, height, left, right, top, bottom = 600, 200, 56, 12, 24, 36
    steps = [step for step, _ in points]
    losses = [loss for _, loss in points]
    first_step, last_step = min(steps), max(steps)
    low, high = min(losses), max(losses)
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(step):
        return left + (step - first_step) / ((last_step - first_step) or 1) * plot_w

    def y(loss):
        return top + plot_h - (loss - low) / ((high - low) or 1) * plot_h

    lowest_step, lowest = min(points, key=lambda point: point[1])
    # Up to 200 points are kept; a table of about ten, always with the last, is what a reader takes in.
    table = points[:: max(1, len(points) // 10)]
    if table[-1] != points[-1]:
        table.append(points[-1])
    return {
        "width": width,
        "height": height,
        "plot": {"left": left, "right": width - right, "top": top, "bottom": top + plot_h},
        "points": " ".join(f"{x(step):.1f},{y(loss):.1f}" for step, loss in points),
        "x_ticks": [{"at": f"{x(step):.1f}", "label": f"{step:.0f}"} for step in _ticks(first_step, last_step, 5)],
        "y_ticks": [{"at": f"{y(loss):.1f}", "label": f"{loss:.3g}"} for loss in _ticks(low, high, 4)],
        "summary": (
            f"Loss went from {losses[0]:.3g} at step {steps[0]} to {losses[-1]:.3g} at step {steps[-1]}; "
            f"the lowest was {lowest:.3g} at step {lowest_step}."
        ),
        "table": table,
    }


def run_status_counts() -> dict[str, int]:
    """Runs of every user per status (operators)."""
    rows = TrainingRun.objects.order_by().values_list("status").annotate(count=Count("id"))
    return dict(rows)


def runs_stuck(*, since: datetime):
    """Active runs that have not moved since `since`, oldest first (operators).

    Each is what training_reconcile re-drives: a queued or submitting run counts from its
    creation, a running one from its overdue poll, a publishing one from the provider's last report.
    """
    stuck_since = Case(
        When(
            status__in=[TrainingRun.Status.STARTING, TrainingRun.Status.TRAINING],
            then=Coalesce("next_poll_at", "last_event_at", "submitted_at", "created_at"),
        ),
        default=Coalesce("last_event_at", "submitted_at", "created_at"),
    )
    return (
        TrainingRun.objects.filter(status__in=TrainingRun.ACTIVE)
        .annotate(stuck_since=stuck_since)
        .filter(stuck_since__lt=since)
        .order_by(F("stuck_since").asc(), "id")
    )


WAIT_NOTICES = {
    "queued": "Our workers have not picked this training up yet; it starts or ends within {left}.",
    "submitting": "The provider has not accepted this training yet; we keep trying for up to {left}.",
    "starting": (
        "The provider is still queueing this training for a GPU; this can take up to {left} more. "
        "Nothing is charged until it starts."
    ),
    "training": (
        "This training is taking longer than the estimated {usual}; we stop it if it is not done within {left}."
    ),
    "publishing": (
        "The training is done; fetching and storing its LoRA is taking longer than usual (at most {left} more)."
    ),
}


def _duration(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    if minutes < 90:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{round(minutes / 60, 1):g} hours"


def run_wait_notice(*, run: TrainingRun) -> str:
    """What the run page says when a status lasts longer than usual, before its deadline; "" else."""
    if not run.is_active:
        return ""
    usual_minutes = (
        run.estimated_minutes * 1.5 + 5
        if run.status == TrainingRun.Status.TRAINING
        else settings.TRAINING_STATE_USUAL_MINUTES[run.status]
    )
    waited = timezone.now() - run.state_changed_at
    if waited < timedelta(minutes=usual_minutes):
        return ""
    deadline = run.state_changed_at + timedelta(minutes=settings.TRAINING_STATE_DEADLINE_MINUTES[run.status])
    left = max(60.0, (deadline - timezone.now()).total_seconds())
    return WAIT_NOTICES[run.status].format(left=_duration(left), usual=_duration(usual_minutes * 60))


def runs_ended_by_deadline(*, since: datetime):
    """Runs that a deadline or an attempt budget ended, newest first (operators)."""
    return TrainingRun.objects.filter(
        status=TrainingRun.Status.FAILED,
        error_kind__in=["deadline", "provider_down", "internal"],
        completed_at__gte=since,
    ).order_by("-completed_at", "-id")
