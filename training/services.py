import logging
import re
import shutil
import tempfile
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.emails import send_templated_email
from core import failures
from core.exceptions import OutputUnusable, PermanentProviderError, ProviderError, Refusal
from core.leases import FREE, lease_claim, lease_expired, lease_seconds, new_attempt, released_on_error
from core.money import money
from projects import selectors as project_selectors
from projects import services as project_services
from projects.models import Photo, Project
from training import dataset, weights
from training.backends.base import ProviderTraining, TrainingBackend
from training.models import TrainingLimit, TrainingRun

logger = logging.getLogger(__name__)

# The simulator's name, as runs record it: simulated runs are never charged (TrainingRun.simulated).
DEMO_BACKEND = "demo"
BACKENDS = {
    DEMO_BACKEND: "training.backends.demo.DemoTrainingBackend",
    "replicate": "training.backends.replicate.ReplicateTrainingBackend",
}
PRESETS = {
    TrainingRun.Preset.FAST: {"steps": 600, "lora_rank": 16, "learning_rate": 4e-4},
    TrainingRun.Preset.BALANCED: {"steps": 1000, "lora_rank": 16, "learning_rate": 4e-4},
    TrainingRun.Preset.HIGH_QUALITY: {"steps": 2000, "lora_rank": 32, "learning_rate": 3e-4},
}
# Products need less variety in pose and more detail; people need their face at several sizes.
RESOLUTION = {Project.Category.PERSON: "512,768,1024", Project.Category.PRODUCT: "768,1024"}
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
# Statuses in which the provider may be working on (and billing) a run we end on our side.
PROVIDER_WORKS = (TrainingRun.Status.SUBMITTING, TrainingRun.Status.STARTING, TrainingRun.Status.TRAINING)


class TrainingNotAllowed(Refusal):
    """Training cannot start now; the message says why."""


def backend_for(name: str | None = None) -> TrainingBackend:
    """The backend of an existing run (by name), or the configured one for new runs."""
    return import_string(BACKENDS[name] if name else settings.TRAINING_BACKEND)()


# Estimates and limits
# ------------------------------------------------------------------------------


def training_parameters(*, project: Project, preset: str) -> dict:
    return {**PRESETS[preset], "resolution": RESOLUTION[project.category], "trigger_word": project.trigger_word}


def training_estimate(*, steps: int, simulated: bool = False) -> tuple[Decimal, int]:
    """Estimated cost in USD and minutes, from the configured seconds per step and GPU price.
    A simulated (demo) training costs nothing."""
    seconds = steps * settings.TRAINING_SECONDS_PER_STEP
    return _cost(seconds, simulated=simulated), max(1, round(seconds / 60))


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


def training_refusal(*, project: Project, steps: int, photos: list | None = None) -> str:
    """Why this project cannot start training now, or "" if it can. `photos`: the project's photos,
    when the caller has read them already (the project page)."""
    if (
        project.status in (Project.Status.DRAFT,)
        or not project_selectors.project_readiness(project=project, photos=photos).ready
    ):
        return "The project is not ready: fix the readiness checklist first."
    if TrainingRun.objects.filter(project=project, status__in=TrainingRun.ACTIVE).exists():
        return "This project is already training; wait for it to finish or cancel it."
    runs_per_day, monthly_spend = _limits_for(project.owner_id)
    now = timezone.now()
    owner_runs = TrainingRun.objects.filter(project__owner_id=project.owner_id)
    if owner_runs.filter(created_at__gte=now - timedelta(days=1)).count() >= runs_per_day:
        return f"You have started {runs_per_day} trainings in the last 24 hours, your daily limit. Try again later."
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
        (actual if actual is not None else estimated)
        for actual, estimated in month.values_list("actual_cost", "estimated_cost")
    )
    cost, _ = training_estimate(steps=steps, simulated=new_runs_simulated())
    if cost and committed + cost > monthly_spend:
        return f"This training (about {money(cost)}) would take you over your monthly limit of {money(monthly_spend)}."
    return ""


# Starting and submitting
# ------------------------------------------------------------------------------


def training_start(*, project: Project, preset: str = TrainingRun.Preset.BALANCED) -> TrainingRun:
    """Record a queued run and hand it to a worker. Raises TrainingNotAllowed with the reason."""
    from training.tasks import submit_training

    parameters = training_parameters(project=project, preset=preset)
    with transaction.atomic():
        # The lock makes "one active run per project" hold against double clicks.
        project = Project.objects.select_for_update().get(id=project.id)
        refusal = training_refusal(project=project, steps=parameters["steps"])
        if refusal:
            raise TrainingNotAllowed(refusal)
        backend = backend_for()
        cost, minutes = training_estimate(steps=parameters["steps"], simulated=backend.simulated)
        run = TrainingRun.objects.create(
            project=project,
            preset=preset,
            backend=backend.name,
            estimated_cost=cost,
            estimated_minutes=minutes,
            **parameters,
        )
        Project.objects.filter(id=project.id).update(status=Project.Status.TRAINING)
        submit_training.delay_on_commit(run.id)
    return run


def _webhook_url(run: TrainingRun) -> str | None:
    # Providers only call public HTTPS addresses; a laptop has none, and polling covers it.
    if not settings.SITE_URL.startswith("https://"):
        return None
    return settings.SITE_URL + reverse("training:webhook", kwargs={"run_id": run.id})


def _package_dataset(run: TrainingRun) -> str:
    # The photos at packaging time: one moved to the trash before then is left out; the zip, once
    # stored, is what the run trains on, so trashing (or purging) a photo later changes nothing.
    photos = list(
        run.project.photos.filter(status=Photo.Status.READY, trashed_at__isnull=True).order_by("created_at", "id")
    )
    archive = dataset.build_zip(photos=photos, trigger_word=run.trigger_word)
    name = f"users/{run.project.owner_id}/training/run-{run.id}/dataset.zip"
    default_storage.delete(name)  # a leftover of a crashed attempt
    return default_storage.save(name, File(archive, name="dataset.zip"))


def _entering(status: str) -> dict:
    """The fields of a run that moves to `status`: its deadline and step budget start anew."""
    return {"status": status, "state_changed_at": timezone.now(), "attempts": 0, "polls": 0}


def state_deadline(run: TrainingRun):
    """When the run's current status runs out (see settings.TRAINING_STATE_DEADLINE_MINUTES)."""
    return run.state_changed_at + timedelta(minutes=settings.TRAINING_STATE_DEADLINE_MINUTES[run.status])


def _out_of_attempts(run: TrainingRun) -> bool:
    return run.attempts > settings.TRAINING_STEP_ATTEMPTS


def training_submit(*, run_id: int, attempt: str | None = None) -> None:
    """Package the dataset and start the provider's training, once.

    The run moves to SUBMITTING before the provider is called; a re-run that finds it there
    first asks the provider whether the crashed attempt got through, so a training is never
    started twice. One attempt at a time holds the run's lease (see core.leases), and the step
    has a budget of attempts.
    """
    attempt = attempt or new_attempt()
    claimable = TrainingRun.objects.filter(
        id=run_id,
        status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.SUBMITTING],
        provider_training_id__isnull=True,
    )
    if not lease_claim(claimable, holder=attempt, seconds=lease_seconds("training.submit_training")):
        return
    with released_on_error(TrainingRun.objects.filter(id=run_id), holder=attempt):
        run = TrainingRun.objects.select_related("project").get(id=run_id)
        if _out_of_attempts(run):
            _give_up_step(run)
            return
        _submit(run)


def _submit(run: TrainingRun) -> None:
    backend = backend_for(run.backend)
    if not run.dataset:
        name = _package_dataset(run)
        TrainingRun.objects.filter(id=run.id, dataset="").update(dataset=name)
        run.refresh_from_db()
    if not run.dataset_url:
        url = backend.dataset_url(run=run, dataset_name=run.dataset.name)
        TrainingRun.objects.filter(id=run.id, dataset_url="").update(dataset_url=url)
        run.refresh_from_db()
    dataset_url = run.dataset_url
    existing = backend.find_submitted(dataset_url=dataset_url) if run.status == TrainingRun.Status.SUBMITTING else None
    if existing is None:
        if run.status == TrainingRun.Status.QUEUED:
            marked = TrainingRun.objects.filter(id=run.id, status=TrainingRun.Status.QUEUED).update(
                **{**_entering(TrainingRun.Status.SUBMITTING), "attempts": run.attempts}
            )
            if not marked:
                return  # canceled meanwhile
        try:
            existing = backend.submit(run=run, dataset_url=dataset_url, webhook_url=_webhook_url(run))
        except PermanentProviderError as error:
            _fail_with(run.id, error.kind, detail=str(error))
            return
    _record_training(run, existing)


def _record_training(run: TrainingRun, training: ProviderTraining) -> None:
    recorded = TrainingRun.objects.filter(
        id=run.id,
        status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.SUBMITTING],
        provider_training_id__isnull=True,
    ).update(
        provider_training_id=training.id,
        submitted_at=timezone.now(),
        next_poll_at=timezone.now() + timedelta(seconds=settings.TRAINING_POLL_SECONDS),
        **_entering(TrainingRun.Status.STARTING),
        **FREE,
    )
    if not recorded:
        # The run was canceled or ended meanwhile (or another attempt recorded its training): stop ours.
        _cancel_quietly(backend_for(run.backend), training.id)
        return
    training_apply_update(run_id=run.id, training=training)


def _cancel_quietly(backend: TrainingBackend, provider_id: str) -> ProviderTraining | None:
    try:
        return backend.cancel(provider_id=provider_id)
    except ProviderError as error:
        # The run has ended on our side all the same; the provider ends an unfed training itself.
        logger.warning("training %s: cancel at the provider failed: %s", provider_id, error)
        return None


def training_give_up(*, run_id: int, error: Exception) -> None:
    """A task ran out of retries (or met a permanent error) on a run.

    Permanent errors end the run now with their message. After transient ones, a run the provider
    has (or may have) taken, or whose LoRA waits at the provider, is left to the reconcile task,
    which re-drives it within its status' deadline and attempt budget; the others fail now.
    """
    run = TrainingRun.objects.filter(id=run_id, status__in=TrainingRun.ACTIVE).first()
    if run is None:
        return
    _note_error(run_id, error)
    if isinstance(error, PermanentProviderError):
        _fail_with(run_id, error.kind, detail=str(error), stop_provider=run.status in PROVIDER_WORKS)
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
        _fail_with(run_id, kind, detail="" if kind == failures.Kind.INTERNAL else str(error))


def training_note_error(*, run_id: int, error: Exception) -> None:
    """Remember the latest error a step met (operators; and the message if the run ends on it)."""
    _note_error(run_id, error)


def _note_error(run_id: int, error: Exception) -> None:
    TrainingRun.objects.filter(id=run_id, status__in=TrainingRun.ACTIVE).update(last_error=str(error)[:500])


def _give_up_step(run: TrainingRun) -> None:
    """The run's step used its attempt budget: end the run with what went wrong."""
    logger.warning("training %s: %s used its %s attempts", run.id, run.status, settings.TRAINING_STEP_ATTEMPTS)
    if run.status == TrainingRun.Status.PUBLISHING and run.lora_file:
        _succeed_without_hub(run)
        return
    template = failures.TRAINING_EXHAUSTED.get(run.status, failures.TRAINING_EXHAUSTED["submitting"])
    message = template.format(attempts=settings.TRAINING_STEP_ATTEMPTS) + " Retry it later."
    _end(
        run_id=run.id,
        statuses=[run.status],
        stop_provider=run.status in PROVIDER_WORKS,
        status=TrainingRun.Status.FAILED,
        error=failures.with_last_error(message, run.last_error),
        error_kind=failures.kind_of_last_error(run.last_error),
        completed_at=timezone.now(),
    )


# Provider updates (webhooks and polling)
# ------------------------------------------------------------------------------


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


def _cost(gpu_seconds: float, *, simulated: bool) -> Decimal:
    if simulated:
        return Decimal("0.00")
    return Decimal(str(gpu_seconds * settings.TRAINING_GPU_PRICE_PER_SECOND)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def training_apply_update(*, run_id: int, training: ProviderTraining) -> None:
    """Apply what the provider reports. Monotonic: a late or repeated update never moves a run back;
    statuses we do not know change nothing (the status' deadline still ends the run)."""
    from training.tasks import publish_lora

    run = TrainingRun.objects.filter(id=run_id).first()
    if run is None or run.is_terminal or run.status == TrainingRun.Status.PUBLISHING:
        return
    new_status = PROVIDER_STATUS.get(training.status)
    if new_status is None:
        logger.warning("training %s: unknown provider status %r", run_id, training.status[:40])
        return
    fields = {"last_event_at": timezone.now()}
    if TrainingRun.RANK[new_status] > TrainingRun.RANK[run.status]:
        fields.update(_entering(new_status))
    percent, points = _progress(training.logs or "")
    if percent is not None and percent > run.progress:
        fields["progress"] = percent
    if points:
        fields["loss_points"] = points
    if training.logs:
        fields["log_tail"] = "\n".join(training.logs.splitlines()[-LOG_TAIL_LINES:])[-20_000:]
    if training.gpu_seconds is not None:
        fields["gpu_seconds"] = training.gpu_seconds
        fields["actual_cost"] = _cost(training.gpu_seconds, simulated=run.simulated)
    if training.version:
        fields["provider_version"] = training.version
    ending = fields.get("status") in (TrainingRun.Status.FAILED, TrainingRun.Status.CANCELED)
    if ending:
        if run.error_kind == failures.Kind.USER_CANCELED:
            # The user's cancel reached the provider before we recorded it: theirs, not the provider's.
            fields.update(
                status=TrainingRun.Status.CANCELED, error=failures.explain(run.error_kind, subject="training")
            )
        else:
            kind, message = _provider_failure(training)
            fields.update(error_kind=kind, error=message)
            if kind == failures.Kind.PROVIDER_CANCELED:
                fields["status"] = TrainingRun.Status.CANCELED
        fields["completed_at"] = timezone.now()
        _end(run_id=run_id, statuses=[run.status], **fields)
        return
    if fields.get("status") == TrainingRun.Status.PUBLISHING:
        fields["progress"] = 100
    # Conditional on the status read above: when another update got there first, it did the follow-up.
    if TrainingRun.objects.filter(id=run_id, status=run.status).update(**fields):
        if fields.get("status") == TrainingRun.Status.PUBLISHING:
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
    if run is None:
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
    from training.tasks import sync_training

    moved = TrainingRun.objects.filter(
        id=run_id, status__in=[TrainingRun.Status.STARTING, TrainingRun.Status.TRAINING]
    ).update(next_poll_at=timezone.now())
    if moved:
        sync_training.delay_on_commit(run_id)
    return bool(moved)


def _overdue() -> Q:
    """Active runs whose status' deadline has passed."""
    now = timezone.now()
    overdue = Q(pk__in=[])
    for status, minutes in settings.TRAINING_STATE_DEADLINE_MINUTES.items():
        overdue |= Q(status=status, state_changed_at__lt=now - timedelta(minutes=minutes))
    return overdue


def training_expire(*, run_id: int) -> bool:
    """End a run whose status ran past its deadline, with what went wrong in that status.

    The end is decided here, in the database alone: no provider answer can hold it up. Stopping
    whatever the provider still runs for it is best effort, in a task of its own.
    """
    run = TrainingRun.objects.filter(_overdue(), id=run_id, status__in=TrainingRun.ACTIVE).first()
    if run is None:
        return False
    if run.status == TrainingRun.Status.PUBLISHING and run.lora_file:
        return _succeed_without_hub(run)
    minutes = settings.TRAINING_STATE_DEADLINE_MINUTES[run.status]
    message = failures.TRAINING_DEADLINES[run.status].format(minutes=minutes)
    ended = _end(
        run_id=run.id,
        statuses=[run.status],
        stop_provider=run.status in PROVIDER_WORKS,
        status=TrainingRun.Status.FAILED,
        error=failures.with_last_error(message, run.last_error),
        error_kind=failures.Kind.DEADLINE,
        completed_at=timezone.now(),
    )
    logger.warning("training %s: %s ran past its %s-minute deadline", run.id, run.status, minutes)
    return ended


def training_cancel_at_provider(*, run_id: int) -> None:
    """Stop the provider's training of a run that has ended on our side (best effort), including
    one that a timed-out submission started without our knowing its id."""
    run = TrainingRun.objects.filter(id=run_id, status__in=TrainingRun.TERMINAL).first()
    if run is None:
        return
    backend = backend_for(run.backend)
    provider_id = run.provider_training_id
    if not provider_id and run.dataset_url:
        found = backend.find_submitted(dataset_url=run.dataset_url)
        provider_id = found.id if found else None
    if provider_id:
        try:
            backend.cancel(provider_id=provider_id)
        except PermanentProviderError as error:
            # It no longer exists there (or never will be stoppable): nothing left to do.
            logger.warning("training %s: the provider refused the cancel: %s", run_id, error)


def training_reconcile(*, batch_size: int = 50) -> int:
    """Re-drive runs that should have moved on: end those past their status' deadline, poll the
    due ones, and re-drive submissions, publications and emails whose attempt stopped (a lost
    message, a killed worker) once their lease is free."""
    from training.tasks import notify_owner, publish_lora, submit_training, sync_training

    count = 0
    for run_id in TrainingRun.objects.filter(_overdue()).values_list("id", flat=True)[:batch_size]:
        count += training_expire(run_id=run_id)
    now = timezone.now()
    due = TrainingRun.objects.filter(
        status__in=[TrainingRun.Status.STARTING, TrainingRun.Status.TRAINING],
        provider_training_id__isnull=False,
        next_poll_at__lte=now,
    ).order_by("next_poll_at")[:batch_size]
    for run_id in due.values_list("id", flat=True):
        sync_training.delay(run_id)
        count += 1
    stale = now - timedelta(seconds=settings.REDRIVE_AFTER_SECONDS)
    stalled = (
        TrainingRun.objects.filter(lease_expired())
        .filter(
            Q(status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.SUBMITTING], created_at__lt=stale)
            | Q(status=TrainingRun.Status.PUBLISHING, last_event_at__lt=stale)
        )
        .order_by("created_at")
    )
    for run_id, status in stalled.values_list("id", "status")[:batch_size]:
        (publish_lora if status == TrainingRun.Status.PUBLISHING else submit_training).delay(run_id)
        count += 1
    unannounced = (
        TrainingRun.objects.filter(lease_expired())
        .filter(_to_announce(), notified_at__isnull=True, email_error="", completed_at__lt=stale)
        .values_list("id", flat=True)
    )
    for run_id in unannounced[:batch_size]:
        notify_owner.delay(run_id)
        count += 1
    return count


# Ending a run
# ------------------------------------------------------------------------------


def _to_announce() -> Q:
    """Ended runs whose owner gets an email: all but the ones the user canceled."""
    return Q(status__in=TrainingRun.TERMINAL) & ~Q(error_kind=failures.Kind.USER_CANCELED)


def training_fail(*, run_id: int, message: str, kind: str = failures.Kind.UNKNOWN, stop_provider: bool = False) -> None:
    _end(
        run_id=run_id,
        statuses=TrainingRun.ACTIVE,
        stop_provider=stop_provider,
        status=TrainingRun.Status.FAILED,
        error=message,
        error_kind=kind,
        completed_at=timezone.now(),
    )


def _fail_with(run_id: int, kind: str, *, detail: str = "", stop_provider: bool = False) -> None:
    message = failures.explain(kind, subject="training", detail=detail[:300])
    training_fail(run_id=run_id, message=message, kind=kind, stop_provider=stop_provider)


def training_charge_note(*, run: TrainingRun) -> str:
    """What the run costs the user, as far as we know: for pages and messages about its end."""
    if run.simulated:
        return "It was simulated (demo mode), so nothing is charged."
    if run.gpu_seconds:
        cost = _cost(run.gpu_seconds, simulated=False)
        return f"It used {round(run.gpu_seconds / 60, 1):g} GPU minutes ({money(cost)}), which are billed."
    if run.status == TrainingRun.Status.PUBLISHING or (run.is_terminal and run.provider_version):
        return "The training had finished at the provider, so its GPU time is billed."
    if not run.provider_training_id or run.progress == 0:
        return "It had not started on a GPU, so nothing is charged."
    return "The GPU time it used until now is billed; nothing more will be."


def training_cancel(*, run: TrainingRun) -> TrainingRun:
    """Stop a run. A run the user canceled never publishes or emails."""
    run.refresh_from_db()
    if not run.is_active:
        return run
    # Recorded first: a "canceled" webhook racing this call is then read as the user's cancel.
    TrainingRun.objects.filter(id=run.id, status__in=TrainingRun.ACTIVE).update(error_kind=failures.Kind.USER_CANCELED)
    if run.provider_training_id and run.status != TrainingRun.Status.PUBLISHING:
        # Outside any transaction: a network call.
        try:
            stopped = backend_for(run.backend).cancel(provider_id=run.provider_training_id)
        except ProviderError:
            TrainingRun.objects.filter(id=run.id, status__in=TrainingRun.ACTIVE).update(error_kind="")
            raise
        if stopped is not None and stopped.gpu_seconds is not None:
            TrainingRun.objects.filter(id=run.id).update(
                gpu_seconds=stopped.gpu_seconds, actual_cost=_cost(stopped.gpu_seconds, simulated=run.simulated)
            )
    _end(
        run_id=run.id,
        statuses=TrainingRun.ACTIVE,
        status=TrainingRun.Status.CANCELED,
        error=failures.explain(failures.Kind.USER_CANCELED, subject="training"),
        error_kind=failures.Kind.USER_CANCELED,
        completed_at=timezone.now(),
    )
    run.refresh_from_db()
    return run


def _end(*, run_id: int, statuses, stop_provider: bool = False, **fields) -> bool:
    """End a run that is in one of `statuses`, and put its project back in a usable state, in one
    commit: a worker killed in between would leave the project "training" for good.

    `stop_provider`: we end it while the provider may still work on it (a deadline, retries that
    ran out): a best-effort task then cancels whatever training the run has there.
    """
    from training.tasks import cancel_at_provider

    fields.setdefault("state_changed_at", timezone.now())
    with transaction.atomic():
        ended = TrainingRun.objects.filter(id=run_id, status__in=statuses).update(**{**fields, **FREE, "attempts": 0})
        if ended:
            _after_end(run_id=run_id)
            if stop_provider:
                cancel_at_provider.delay_on_commit(run_id)
    return bool(ended)


def _after_end(*, run_id: int) -> None:
    """Put the project back in a usable state and tell the owner how it went."""
    from training.tasks import notify_owner

    run = TrainingRun.objects.select_related("project").get(id=run_id)
    project = run.project
    if project.training_runs.filter(status=TrainingRun.Status.SUCCEEDED).exists():
        Project.objects.filter(id=project.id).update(status=Project.Status.TRAINED)
    else:
        Project.objects.filter(id=project.id, status=Project.Status.TRAINING).update(status=Project.Status.DRAFT)
        project_services.project_refresh_status(project_id=project.id)
    if run.error_kind != failures.Kind.USER_CANCELED:
        notify_owner.delay_on_commit(run_id)


# Publishing the LoRA
# ------------------------------------------------------------------------------


def training_publish(*, run_id: int, attempt: str | None = None) -> None:
    """Fetch the LoRA from the trainer's output and store it (our storage, then the Hub). Safe to
    run twice and resumable: once the LoRA is in our storage a retry only does what is left. One
    attempt at a time holds the run's lease, so the Hub never gets two commits."""
    attempt = attempt or new_attempt()
    claimable = TrainingRun.objects.filter(id=run_id, status=TrainingRun.Status.PUBLISHING)
    if not lease_claim(claimable, holder=attempt, seconds=lease_seconds("training.publish_lora")):
        return
    with released_on_error(TrainingRun.objects.filter(id=run_id), holder=attempt):
        run = TrainingRun.objects.select_related("project").get(id=run_id)
        if timezone.now() > state_deadline(run):
            training_expire(run_id=run.id)
        elif _out_of_attempts(run):
            _give_up_step(run)
        else:
            _publish(run)


def _publish(run: TrainingRun) -> None:
    backend = backend_for(run.backend)
    if not run.lora_file:
        training = backend.fetch(provider_id=run.provider_training_id)
        try:
            with backend.open_weights(training=training, max_bytes=settings.TRAINING_MAX_WEIGHTS_BYTES) as stream:
                lora = weights.extract_lora(stream, max_bytes=settings.TRAINING_MAX_WEIGHTS_BYTES)
        except weights.WeightsError as error:
            _fail_with(run.id, failures.Kind.BAD_OUTPUT, detail=str(error))
            return
        except OutputUnusable as error:
            _fail_with(run.id, error.kind, detail=str(error))
            return
        with lora:
            _store_lora(run, lora)
        run.refresh_from_db()
    if settings.HF_TOKEN and not backend.simulated and not run.hf_commit:
        try:
            _publish_to_hub(run)
        except PermanentProviderError as error:
            # The LoRA is stored with us and usable; the Hub copy is an extra.
            _succeed_without_hub(run, reason=str(error))
            return
    _end(
        run_id=run.id,
        statuses=[TrainingRun.Status.PUBLISHING],
        status=TrainingRun.Status.SUCCEEDED,
        progress=100,
        completed_at=timezone.now(),
    )


def _publish_to_hub(run: TrainingRun) -> None:
    from integrations import huggingface

    with default_storage.open(run.lora_file.name, "rb") as stored, tempfile.TemporaryFile() as lora:
        shutil.copyfileobj(stored, lora, 1024 * 1024)
        lora.seek(0)
        repo_id, commit = huggingface.publish_lora(
            repo_id=_hub_repo_id(run), lora=lora, model_card=_model_card(run), run_marker=f"run-{run.id}"
        )
    TrainingRun.objects.filter(id=run.id, hf_commit="").update(hf_repo_id=repo_id, hf_commit=commit)


def _succeed_without_hub(run: TrainingRun, *, reason: str = "") -> bool:
    """The LoRA is in our storage but the Hub copy could not be made: the model is usable all the same."""
    reason = reason or run.last_error or "the Hub kept failing"
    logger.warning("training %s: published without a Hub copy: %s", run.id, reason)
    return _end(
        run_id=run.id,
        statuses=[TrainingRun.Status.PUBLISHING],
        status=TrainingRun.Status.SUCCEEDED,
        progress=100,
        last_error=f"No Hugging Face copy: {reason}"[:500],
        completed_at=timezone.now(),
    )


def _store_lora(run: TrainingRun, lora) -> None:
    name = f"users/{run.project.owner_id}/training/run-{run.id}/lora.safetensors"
    default_storage.delete(name)  # a leftover of a crashed attempt
    stored = default_storage.save(name, File(lora, name="lora.safetensors"))
    if not TrainingRun.objects.filter(id=run.id, lora_file="").update(lora_file=stored):
        recorded = TrainingRun.objects.filter(id=run.id).values_list("lora_file", flat=True).first()
        if stored != recorded:
            default_storage.delete(stored)


def _hub_repo_id(run: TrainingRun) -> str:
    from django.utils.text import slugify

    return f"{settings.HF_NAMESPACE}/{slugify(run.project.name)[:40] or 'project'}-{run.project_id}-run-{run.id}"


def _model_card(run: TrainingRun) -> str:
    return (
        "---\nbase_model: black-forest-labs/FLUX.1-dev\nlicense: other\ntags: [flux, lora, photoagent]\n---\n"
        f"# {run.project.name}\n\nA FLUX.1-dev LoRA trained by PhotoAgent.\n\n"
        f"- Trigger word: `{run.trigger_word}`\n- Steps: {run.steps}, LoRA rank: {run.lora_rank}, "
        f"learning rate: {run.learning_rate}, resolutions: {run.resolution}\n\n"
        f"Example prompt: `a photo of {run.trigger_word}, studio lighting`\n"
    )


# Email
# ------------------------------------------------------------------------------


def training_notify(*, run_id: int, attempt: str | None = None) -> None:
    """Email the owner how the run ended, once (every end but the user's own cancel).

    The attempt holds the run's lease while it sends and records the mail as sent right after
    SendGrid accepted it. A failed send frees the lease for the retry; an attempt killed while
    sending leaves it to run out, and the reconcile task sends again. The step has a budget of
    attempts; a mail SendGrid refuses for good is recorded as such, not retried. (SendGrid has
    no idempotency key: only an attempt killed between SendGrid's answer and that record can
    mail twice.)
    """
    attempt = attempt or new_attempt()
    unsent = TrainingRun.objects.filter(_to_announce(), id=run_id, notified_at__isnull=True, email_error="")
    if not lease_claim(unsent, holder=attempt, seconds=lease_seconds("training.notify_owner")):
        return
    with released_on_error(TrainingRun.objects.filter(id=run_id), holder=attempt):
        run = TrainingRun.objects.select_related("project__owner").get(id=run_id)
        if _out_of_attempts(run):
            training_email_failed(run_id=run_id, reason=f"{settings.TRAINING_STEP_ATTEMPTS} attempts failed")
            return
        succeeded = run.status == TrainingRun.Status.SUCCEEDED
        try:
            send_templated_email(
                to=run.project.owner.email,
                template="training_succeeded" if succeeded else "training_failed",
                context={
                    "user": run.project.owner,
                    "run": run,
                    "project": run.project,
                    "link": settings.SITE_URL + reverse("training:run", kwargs={"run_id": run.id}),
                    "simulated": run.backend == "demo",
                    "charge_note": training_charge_note(run=run),
                },
            )
        except PermanentProviderError as error:
            training_email_failed(run_id=run_id, reason=str(error))
            return
        TrainingRun.objects.filter(id=run_id).update(notified_at=timezone.now(), **FREE)


def training_email_failed(*, run_id: int, reason: str) -> None:
    logger.error("training %s: the result email could not be sent: %s", run_id, reason)
    TrainingRun.objects.filter(id=run_id, notified_at__isnull=True).update(email_error=reason[:300], **FREE)
