import logging
import re
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
from core.exceptions import PermanentProviderError, ProviderError
from core.leases import FREE, lease_claim, lease_expired, lease_seconds, new_attempt, released_on_error
from projects import selectors as project_selectors
from projects import services as project_services
from projects.models import Photo, Project
from training import dataset, weights
from training.backends.base import ProviderTraining, TrainingBackend
from training.models import TrainingLimit, TrainingRun

logger = logging.getLogger(__name__)

BACKENDS = {
    "demo": "training.backends.demo.DemoTrainingBackend",
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


class TrainingNotAllowed(Exception):
    """Training cannot start now; the message says why."""


def backend_for(name: str | None = None) -> TrainingBackend:
    """The backend of an existing run (by name), or the configured one for new runs."""
    return import_string(BACKENDS[name] if name else settings.TRAINING_BACKEND)()


# Estimates and limits
# ------------------------------------------------------------------------------


def training_parameters(*, project: Project, preset: str) -> dict:
    return {**PRESETS[preset], "resolution": RESOLUTION[project.category], "trigger_word": project.trigger_word}


def training_estimate(*, steps: int) -> tuple[Decimal, int]:
    """Estimated cost in USD and minutes, from the configured seconds per step and GPU price."""
    seconds = steps * settings.TRAINING_SECONDS_PER_STEP
    cost = Decimal(str(seconds * settings.TRAINING_GPU_PRICE_PER_SECOND)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return cost, max(1, round(seconds / 60))


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
    month = owner_runs.filter(created_at__gte=month_start).exclude(
        status__in=[TrainingRun.Status.FAILED, TrainingRun.Status.CANCELED], gpu_seconds__isnull=True
    )
    committed = sum(
        (actual if actual is not None else estimated)
        for actual, estimated in month.values_list("actual_cost", "estimated_cost")
    )
    cost, _ = training_estimate(steps=steps)
    if committed + cost > monthly_spend:
        return f"This training (about ${cost}) would take you over your monthly limit of ${monthly_spend}."
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
        cost, minutes = training_estimate(steps=parameters["steps"])
        run = TrainingRun.objects.create(
            project=project,
            preset=preset,
            backend=backend_for().name,
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
    photos = list(run.project.photos.filter(status=Photo.Status.READY).order_by("created_at", "id"))
    archive = dataset.build_zip(photos=photos, trigger_word=run.trigger_word)
    name = f"users/{run.project.owner_id}/training/run-{run.id}/dataset.zip"
    default_storage.delete(name)  # a leftover of a crashed attempt
    return default_storage.save(name, File(archive, name="dataset.zip"))


def training_submit(*, run_id: int, attempt: str | None = None) -> None:
    """Package the dataset and start the provider's training, once.

    The run moves to SUBMITTING before the provider is called; a re-run that finds it there
    first asks the provider whether the crashed attempt got through, so a training is never
    started twice. One attempt at a time holds the run's lease (see core.leases).
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
        _submit(TrainingRun.objects.select_related("project").get(id=run_id))


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
        marked = TrainingRun.objects.filter(
            id=run.id, status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.SUBMITTING]
        ).update(status=TrainingRun.Status.SUBMITTING)
        if not marked:
            return  # canceled meanwhile
        try:
            existing = backend.submit(run=run, dataset_url=dataset_url, webhook_url=_webhook_url(run))
        except PermanentProviderError as error:
            training_fail(run_id=run.id, message=f"The provider refused the training: {error}")
            return
    recorded = TrainingRun.objects.filter(id=run.id, provider_training_id__isnull=True).update(
        provider_training_id=existing.id,
        status=TrainingRun.Status.STARTING,
        submitted_at=timezone.now(),
        next_poll_at=timezone.now() + timedelta(seconds=settings.TRAINING_POLL_SECONDS),
        **FREE,
    )
    if not recorded:
        # The run was canceled meanwhile (or another attempt recorded its training): stop ours.
        backend.cancel(provider_id=existing.id)
        return
    training_apply_update(run_id=run.id, training=existing)


def training_give_up(*, run_id: int, message: str) -> None:
    """Retries ran out on provider errors. A run the provider has (or may have) taken, or whose
    LoRA waits at the provider, is left to the reconcile task, which tries again later; the
    others fail now."""
    run = TrainingRun.objects.filter(id=run_id, status__in=TrainingRun.ACTIVE).first()
    if run is None:
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
        logger.warning("training %s: retries ran out; the reconcile task will try again", run_id)
    else:
        training_fail(run_id=run_id, message=message)


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
                points.append([done, float(loss.group(1))])
    return percent, points[-200:]


def _failure_message(training: ProviderTraining) -> str:
    if training.status == "aborted":
        return "The provider stopped the training before it started (it hit a deadline). Retry it."
    detail = (training.error or "").strip().splitlines()
    reason = detail[-1] if detail else "no reason given"
    return f"Training failed at the provider: {reason[:300]}. Check your photos, then retry."


def training_apply_update(*, run_id: int, training: ProviderTraining) -> None:
    """Apply what the provider reports. Monotonic: a late or repeated update never moves a run back."""
    from training.tasks import publish_lora

    run = TrainingRun.objects.filter(id=run_id).first()
    if run is None or run.is_terminal or run.status == TrainingRun.Status.PUBLISHING:
        return
    new_status = PROVIDER_STATUS.get(training.status)
    if new_status is None:
        logger.warning("training %s: unknown provider status %r", run_id, training.status)
        return
    fields = {"last_event_at": timezone.now()}
    if TrainingRun.RANK[new_status] >= TrainingRun.RANK[run.status]:
        fields["status"] = new_status
    percent, points = _progress(training.logs or "")
    if percent is not None and percent > run.progress:
        fields["progress"] = percent
    if points:
        fields["loss_points"] = points
    if training.logs:
        fields["log_tail"] = "\n".join(training.logs.splitlines()[-LOG_TAIL_LINES:])
    if training.gpu_seconds is not None:
        fields["gpu_seconds"] = training.gpu_seconds
        fields["actual_cost"] = Decimal(str(training.gpu_seconds * settings.TRAINING_GPU_PRICE_PER_SECOND)).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
    if training.version:
        fields["provider_version"] = training.version
    if fields.get("status") == TrainingRun.Status.FAILED:
        fields.update(error=_failure_message(training), completed_at=timezone.now())
    elif fields.get("status") == TrainingRun.Status.CANCELED:
        fields.update(error="The training was canceled.", completed_at=timezone.now())
    elif fields.get("status") == TrainingRun.Status.PUBLISHING:
        fields["progress"] = 100
    # Conditional on the status read above: when another update got there first, it did the follow-up.
    if fields.get("status") in (TrainingRun.Status.FAILED, TrainingRun.Status.CANCELED):
        _end(run_id=run_id, statuses=[run.status], **fields)
    elif TrainingRun.objects.filter(id=run_id, status=run.status).update(**fields):
        if fields.get("status") == TrainingRun.Status.PUBLISHING:
            publish_lora.delay_on_commit(run_id)


def training_sync(*, run_id: int) -> None:
    """Poll the provider for a run (covers lost webhooks); fails runs past their deadline."""
    run = TrainingRun.objects.filter(id=run_id).first()
    if run is None or not run.is_active or not run.provider_training_id or run.status == TrainingRun.Status.PUBLISHING:
        return
    deadline = (run.submitted_at or run.created_at) + timedelta(hours=settings.TRAINING_DEADLINE_HOURS)
    if timezone.now() > deadline:
        backend_for(run.backend).cancel(provider_id=run.provider_training_id)
        training_fail(
            run_id=run.id,
            message=f"No result after {settings.TRAINING_DEADLINE_HOURS} hours, so we stopped the training. Retry it.",
        )
        return
    polls = run.polls + 1
    delay = settings.TRAINING_POLL_SECONDS * min(2 ** min(polls, 4), 10)
    TrainingRun.objects.filter(id=run.id).update(polls=polls, next_poll_at=timezone.now() + timedelta(seconds=delay))
    training_apply_update(run_id=run.id, training=backend_for(run.backend).fetch(provider_id=run.provider_training_id))


def training_reconcile(*, batch_size: int = 50) -> int:
    """Re-drive runs that should have moved on: due polls, and submissions, publications and
    emails whose attempt stopped (a lost message, a killed worker) once their lease is free."""
    from training.tasks import notify_owner, publish_lora, submit_training, sync_training

    now = timezone.now()
    due = TrainingRun.objects.filter(
        status__in=[TrainingRun.Status.STARTING, TrainingRun.Status.TRAINING],
        provider_training_id__isnull=False,
        next_poll_at__lte=now,
    ).order_by("next_poll_at")[:batch_size]
    count = 0
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
        .filter(
            status__in=[TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED],
            notified_at__isnull=True,
            completed_at__lt=stale,
        )
        .values_list("id", flat=True)
    )
    for run_id in unannounced[:batch_size]:
        notify_owner.delay(run_id)
        count += 1
    return count


# Ending a run
# ------------------------------------------------------------------------------


def training_fail(*, run_id: int, message: str) -> None:
    _end(
        run_id=run_id,
        statuses=TrainingRun.ACTIVE,
        status=TrainingRun.Status.FAILED,
        error=message,
        completed_at=timezone.now(),
    )


def training_cancel(*, run: TrainingRun) -> TrainingRun:
    """Stop a run. A canceled run never publishes or emails."""
    run.refresh_from_db()
    if not run.is_active:
        return run
    if run.provider_training_id:
        # Outside any transaction: a network call.
        backend_for(run.backend).cancel(provider_id=run.provider_training_id)
    _end(
        run_id=run.id,
        statuses=TrainingRun.ACTIVE,
        notify=False,
        status=TrainingRun.Status.CANCELED,
        error="You canceled this training.",
        completed_at=timezone.now(),
    )
    run.refresh_from_db()
    return run


def _end(*, run_id: int, statuses, notify: bool = True, **fields) -> bool:
    """End a run that is in one of `statuses`, and put its project back in a usable state, in one
    commit: a worker killed in between would leave the project "training" for good."""
    with transaction.atomic():
        ended = TrainingRun.objects.filter(id=run_id, status__in=statuses).update(**fields, **FREE)
        if ended:
            _after_end(run_id=run_id, notify=notify)
    return bool(ended)


def _after_end(*, run_id: int, notify: bool = True) -> None:
    """Put the project back in a usable state and tell the owner how it went."""
    from training.tasks import notify_owner

    run = TrainingRun.objects.select_related("project").get(id=run_id)
    project = run.project
    if project.training_runs.filter(status=TrainingRun.Status.SUCCEEDED).exists():
        Project.objects.filter(id=project.id).update(status=Project.Status.TRAINED)
    else:
        Project.objects.filter(id=project.id, status=Project.Status.TRAINING).update(status=Project.Status.DRAFT)
        project_services.project_refresh_status(project_id=project.id)
    if notify and run.status != TrainingRun.Status.CANCELED:
        notify_owner.delay_on_commit(run_id)


# Publishing the LoRA
# ------------------------------------------------------------------------------


def training_publish(*, run_id: int, attempt: str | None = None) -> None:
    """Fetch the LoRA from the trainer's output and store it (Hub or storage). Safe to run twice;
    one attempt at a time holds the run's lease, so the Hub never gets two commits."""
    attempt = attempt or new_attempt()
    claimable = TrainingRun.objects.filter(id=run_id, status=TrainingRun.Status.PUBLISHING)
    if not lease_claim(claimable, holder=attempt, seconds=lease_seconds("training.publish_lora")):
        return
    with released_on_error(TrainingRun.objects.filter(id=run_id), holder=attempt):
        _publish(TrainingRun.objects.select_related("project").get(id=run_id))


def _publish(run: TrainingRun) -> None:
    from integrations import huggingface

    # The provider keeps a training's output for a limited time: past the deadline, stop trying.
    if run.last_event_at and timezone.now() > run.last_event_at + timedelta(hours=settings.TRAINING_DEADLINE_HOURS):
        training_fail(
            run_id=run.id,
            message="The training finished, but its LoRA could not be fetched from the provider in time. Retry it.",
        )
        return
    backend = backend_for(run.backend)
    hub_pending = settings.HF_TOKEN and not backend.simulated and not run.hf_commit
    if not run.lora_file or hub_pending:
        training = backend.fetch(provider_id=run.provider_training_id)
        try:
            with backend.open_weights(training=training, max_bytes=settings.TRAINING_MAX_WEIGHTS_BYTES) as stream:
                lora = weights.extract_lora(stream, max_bytes=settings.TRAINING_MAX_WEIGHTS_BYTES)
        except weights.WeightsError as error:
            training_fail(run_id=run.id, message=f"The trained LoRA could not be used: {error}")
            return
        with lora:
            # Our storage always keeps a copy (owner downloads, generation); the Hub gets one too
            # when configured.
            if not run.lora_file:
                _store_lora(run, lora)
            if hub_pending:
                lora.seek(0)
                repo_id, commit = huggingface.publish_lora(
                    repo_id=_hub_repo_id(run), lora=lora, model_card=_model_card(run), run_marker=f"run-{run.id}"
                )
                TrainingRun.objects.filter(id=run.id, hf_commit="").update(hf_repo_id=repo_id, hf_commit=commit)
    _end(
        run_id=run.id,
        statuses=[TrainingRun.Status.PUBLISHING],
        status=TrainingRun.Status.SUCCEEDED,
        progress=100,
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
    """Email the owner how the run ended, once.

    The attempt holds the run's lease while it sends and records the mail as sent right after
    SendGrid accepted it. A failed send frees the lease for the retry; an attempt killed while
    sending leaves it to run out, and the reconcile task sends again. (SendGrid has no idempotency
    key: only an attempt killed between SendGrid's answer and that record can mail twice.)
    """
    attempt = attempt or new_attempt()
    unsent = TrainingRun.objects.filter(
        id=run_id, status__in=[TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED], notified_at__isnull=True
    )
    if not lease_claim(unsent, holder=attempt, seconds=lease_seconds("training.notify_owner")):
        return
    with released_on_error(TrainingRun.objects.filter(id=run_id), holder=attempt):
        run = TrainingRun.objects.select_related("project__owner").get(id=run_id)
        succeeded = run.status == TrainingRun.Status.SUCCEEDED
        send_templated_email(
            to=run.project.owner.email,
            template="training_succeeded" if succeeded else "training_failed",
            context={
                "user": run.project.owner,
                "run": run,
                "project": run.project,
                "link": settings.SITE_URL + reverse("training:run", kwargs={"run_id": run.id}),
                "simulated": run.backend == "demo",
            },
        )
        TrainingRun.objects.filter(id=run_id).update(notified_at=timezone.now(), **FREE)
