from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Case, Count, F, QuerySet, When
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import formats, timezone
from django.utils.translation import gettext, gettext_lazy, ngettext

from accounts.models import User
from core.demo import DEMO_BACKEND
from core.money import money
from projects import selectors as project_selectors
from projects.access import Can, project_ids_for, role_allows
from projects.models import Photo, Project
from training.models import TrainingLimit, TrainingRun
from training.providers import backend_for

PRESETS: dict[str, dict[str, float]] = {
    TrainingRun.Preset.FAST: {"steps": 600, "lora_rank": 16, "learning_rate": 4e-4},
    TrainingRun.Preset.BALANCED: {"steps": 1000, "lora_rank": 16, "learning_rate": 4e-4},
    TrainingRun.Preset.HIGH_QUALITY: {"steps": 2000, "lora_rank": 32, "learning_rate": 3e-4},
}
# Products need less variety in pose and more detail; people need their face at several sizes.
RESOLUTION: dict[str, str] = {Project.Category.PERSON: "512,768,1024", Project.Category.PRODUCT: "768,1024"}


# Parameters, estimates and limits
# ------------------------------------------------------------------------------


def training_parameters(*, project: Project, preset: str) -> dict:
    """The trainer's parameters for a preset of this project (steps, rank, rate, resolutions, trigger)."""
    return {**PRESETS[preset], "resolution": RESOLUTION[project.category], "trigger_word": project.trigger_word}


def training_cost(gpu_seconds: float, *, simulated: bool) -> Decimal:
    """What GPU time costs at the configured price; a simulated (demo) training costs nothing."""
    if simulated:
        return Decimal("0.00")
    return Decimal(str(gpu_seconds * settings.TRAINING_GPU_PRICE_PER_SECOND)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def training_estimate(*, steps: int, simulated: bool = False) -> tuple[Decimal, int]:
    """Estimated cost in USD and minutes, from the configured seconds per step and GPU price.
    A simulated (demo) training costs nothing."""
    seconds = steps * settings.TRAINING_SECONDS_PER_STEP
    return training_cost(seconds, simulated=simulated), max(1, round(seconds / 60))


def new_runs_simulated() -> bool:
    """Whether a run started now trains on the demo simulator (and so costs nothing)."""
    return backend_for().simulated


def _limits_for(user_id: int) -> tuple[int, Decimal]:
    override = TrainingLimit.objects.filter(user_id=user_id).first()
    runs = override.runs_per_day if override and override.runs_per_day is not None else settings.TRAINING_RUNS_PER_DAY
    spend = (
        override.monthly_spend
        if override and override.monthly_spend is not None
        else Decimal(str(settings.TRAINING_MONTHLY_SPEND))
    )
    return runs, spend


@dataclass(frozen=True)
class TrainingUsage:
    """The training limits of the user runs are charged to (a project's owner), and their use so far."""

    runs_per_day: int
    runs_today: int
    monthly_spend: Decimal
    spent_this_month: Decimal

    @property
    def runs_left(self) -> int:
        return max(0, self.runs_per_day - self.runs_today)

    @property
    def spend_left(self) -> Decimal:
        return max(Decimal("0.00"), self.monthly_spend - self.spent_this_month)


def training_usage(*, owner_id: int) -> TrainingUsage:
    """The owner's limits and what the runs charged to them have used of them: those started while
    they owned the project (TrainingRun.charged_to), wherever the project went since."""
    runs_per_day, monthly_spend = _limits_for(owner_id)
    now = timezone.now()
    owner_runs = TrainingRun.objects.filter(charged_to_id=owner_id)
    runs_today = owner_runs.filter(created_at__gte=now - timedelta(days=1)).count()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # Runs that ended without using a GPU cost nothing; the others count at their actual cost,
    # or their estimate while still running.
    # Simulated (demo) runs are never spend, whatever an older row recorded.
    month = (
        owner_runs.filter(created_at__gte=month_start)
        .exclude(status__in=[TrainingRun.Status.FAILED, TrainingRun.Status.CANCELED], gpu_seconds__isnull=True)
        .exclude(backend=DEMO_BACKEND)
    )
    committed = sum(
        (
            (actual if actual is not None else estimated)
            for actual, estimated in month.values_list("actual_cost", "estimated_cost")
        ),
        Decimal("0.00"),
    )
    return TrainingUsage(
        runs_per_day=runs_per_day, runs_today=runs_today, monthly_spend=monthly_spend, spent_this_month=committed
    )


def training_refusal(
    *, project: Project, steps: int, photos: list[Photo] | None = None, usage: TrainingUsage | None = None
) -> str:
    """Why this project cannot start training now, or "" if it can. `photos`: the project's photos,
    when the caller has read them already (the project page); `usage`: the owner's, likewise.
    Runs are charged to the project's owner, so it is the owner's limits that apply."""
    if (
        project.status in (Project.Status.DRAFT,)
        or not project_selectors.project_readiness(project=project, photos=photos).ready
    ):
        return gettext("The project is not ready: fix the readiness checklist first.")
    if TrainingRun.objects.filter(project=project, status__in=TrainingRun.ACTIVE).exists():
        return gettext("This project is already training; wait for it to finish or cancel it.")
    usage = usage or training_usage(owner_id=project.owner_id)
    if usage.runs_today >= usage.runs_per_day:
        return ngettext(
            "You have started %(count)d training in the last 24 hours, your daily limit. Try again later.",
            "You have started %(count)d trainings in the last 24 hours, your daily limit. Try again later.",
            usage.runs_per_day,
        ) % {"count": usage.runs_per_day}
    cost, _ = training_estimate(steps=steps, simulated=new_runs_simulated())
    if cost and usage.spent_this_month + cost > usage.monthly_spend:
        return gettext("This training (about %(cost)s) would take you over your monthly limit of %(limit)s.") % {
            "cost": money(cost),
            "limit": money(usage.monthly_spend),
        }
    return ""


def training_charge_note(*, run: TrainingRun) -> str:
    """What the run costs the user, as far as we know: for pages and messages about its end."""
    if run.simulated:
        return gettext("It was simulated (demo mode), so nothing is charged.")
    if run.gpu_seconds:
        cost = training_cost(run.gpu_seconds, simulated=False)
        minutes = round(run.gpu_seconds / 60, 1)
        return ngettext(
            "It used %(minutes)s GPU minute (%(cost)s), which is billed.",
            "It used %(minutes)s GPU minutes (%(cost)s), which are billed.",
            # 1.5 minutes read as a plural; only exactly one is "1 minute".
            1 if minutes == 1 else 2,
        ) % {"minutes": _number(minutes), "cost": money(cost)}
    if run.status == TrainingRun.Status.PUBLISHING or (run.is_terminal and run.provider_version):
        return gettext("The training had finished at the provider, so its GPU time is billed.")
    if not run.provider_training_id or run.progress == 0:
        return gettext("It had not started on a GPU, so nothing is charged.")
    return gettext("The GPU time it used until now is billed; nothing more will be.")


def _number(value: float, significant: int | None = None) -> str:
    """A number as the reader's language writes it ("1.5" in English, "1,5" in German), with no
    trailing zeros; `significant`: rounded to that many significant digits first."""
    text = f"{value:.{significant}g}" if significant else f"{value:g}"
    if "e" in text:  # very small or large: keep Python's exponent form, it reads the same everywhere
        return text
    return formats.number_format(Decimal(text))


# Runs
# ------------------------------------------------------------------------------


def _runs_of(user: User, capability: Can = Can.VIEW) -> QuerySet[TrainingRun]:
    """Runs of the projects where the user's role allows `capability`, each with `role` (the user's)."""
    return TrainingRun.objects.filter(project_id__in=project_ids_for(user=user, capability=capability)).annotate(
        role=project_selectors.role_subquery(user=user, project_ref="project_id")
    )


def run_list_for_user(*, user: User, capability: Can = Can.VIEW) -> QuerySet[TrainingRun]:
    """The runs of every project the user is a member of (with that capability), newest first."""
    return _runs_of(user, capability).select_related("project").order_by("-created_at", "-id")


def run_get_for_user(*, user: User, run_id: int, capability: Can = Can.VIEW) -> TrainingRun:
    """A run of a project the user is a member of, or 404; 403 when their role there does not allow
    `capability` (starting, cancelling and retrying need Can.TRAIN: only the owner, who is charged)."""
    run = get_object_or_404(_runs_of(user).select_related("project", "project__owner"), id=run_id)
    role = getattr(run, "role", None)  # annotated by _runs_of
    if not role_allows(role, capability):
        raise project_selectors.role_refusal(role)
    setattr(run.project, "role", role)  # noqa: B010 (an annotation the model does not declare)
    return run


def trained_models_for_user(*, user: User, capability: Can = Can.GENERATE):
    """The trained models (succeeded runs) of the projects where the user's role allows `capability`:
    by default those they may generate with (owner, editor); Can.VIEW lists what a viewer sees too."""
    return run_list_for_user(user=user, capability=capability).filter(status=TrainingRun.Status.SUCCEEDED)


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
        "y_ticks": [{"at": f"{y(loss):.1f}", "label": _number(loss, 3)} for loss in _ticks(low, high, 4)],
        "summary": gettext(
            "Loss went from %(first)s at step %(first_step)s to %(last)s at step %(last_step)s; "
            "the lowest was %(lowest)s at step %(lowest_step)s."
        )
        % {
            "first": _number(losses[0], 3),
            "first_step": steps[0],
            "last": _number(losses[-1], 3),
            "last_step": steps[-1],
            "lowest": _number(lowest, 3),
            "lowest_step": lowest_step,
        },
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
    "queued": gettext_lazy("Our workers have not picked this training up yet; it starts or ends within %(left)s."),
    "submitting": gettext_lazy("The provider has not accepted this training yet; we keep trying for up to %(left)s."),
    "starting": gettext_lazy(
        "The provider is still queueing this training for a GPU; this can take up to %(left)s more. "
        "Nothing is charged until it starts."
    ),
    "training": gettext_lazy(
        "This training is taking longer than the estimated %(usual)s; we stop it if it is not done within %(left)s."
    ),
    "publishing": gettext_lazy(
        "The training is done; fetching and storing its LoRA is taking longer than usual (at most %(left)s more)."
    ),
}


def _duration(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    if minutes < 90:
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    # From 1.5 hours up: a plural in every shipped language.
    hours = round(minutes / 60, 1)
    return ngettext("%(hours)s hour", "%(hours)s hours", 2) % {"hours": _number(hours)}


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
    return WAIT_NOTICES[run.status] % {"left": _duration(left), "usual": _duration(usual_minutes * 60)}


def runs_ended_by_deadline(*, since: datetime):
    """Runs that a deadline or an attempt budget ended, newest first (operators)."""
    return TrainingRun.objects.filter(
        status=TrainingRun.Status.FAILED,
        error_kind__in=["deadline", "provider_down", "internal"],
        completed_at__gte=since,
    ).order_by("-completed_at", "-id")
