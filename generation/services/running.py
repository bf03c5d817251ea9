"""Running a job at its provider: submitting it once, and applying what the provider reports
(by webhook or by polling)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from core import failures
from core.exceptions import PermanentProviderError, ProviderError
from core.leases import FREE, lease_claim, lease_seconds, new_attempt, released_on_error
from generation import tasks
from generation.backends.base import GenerationBackend, ProviderPrediction
from generation.models import Generation
from generation.providers import backend_for
from generation.services.collection import generation_render
from generation.services.jobs import (
    generation_end,
    generation_fail_with,
    generation_give_up_step,
    generation_record_outputs,
    generation_record_submission,
    generation_start,
    phase_deadline,
)
from generation.services.lora import lora_source
from generation.services.reconcile import generation_expire
from generation.services.translation import generation_translate_prompt

logger = logging.getLogger(__name__)

# flux-dev-lora makes at most 4 images; a provider listing more is not believed past this.
MAX_OUTPUTS = 4


def _webhook_url(generation: Generation) -> str | None:
    # Providers only call public HTTPS addresses; a laptop has none, and polling covers it.
    if not settings.SITE_URL.startswith("https://"):
        return None
    return settings.SITE_URL + reverse("generation:webhook", kwargs={"generation_id": generation.id})


def _poll_delay(polls: int) -> float:
    return settings.GENERATION_POLL_SECONDS * min(2 ** (polls // 10), 8)


def generation_run(*, generation_id: int, attempt: str | None = None) -> None:
    """Start the job at its provider, once; or, for synchronous providers, make the images.

    One attempt at a time holds the job's lease (see core.leases) until the provider's id is
    recorded; the step has a budget of attempts.
    """
    attempt = attempt or new_attempt()
    claimable = Generation.objects.filter(id=generation_id, status__in=Generation.ACTIVE, provider_id__isnull=True)
    if not lease_claim(claimable, holder=attempt, seconds=lease_seconds("generation.run_generation")):
        return
    job = Generation.objects.filter(id=generation_id)
    with released_on_error(job, holder=attempt):
        generation = job.select_related("project", "training_run").get()
        if generation.attempts > settings.GENERATION_STEP_ATTEMPTS:
            generation_give_up_step(generation=generation)
            return
        _run(generation)
        job.filter(lease_holder=attempt).update(**FREE)


def _run(generation: Generation) -> None:
    backend = backend_for(generation.backend)
    # A job found RUNNING without a provider id crashed (or timed out) while submitting.
    resumed = generation.status == Generation.Status.RUNNING
    if not resumed:
        if not generation_start(generation_id=generation.id):
            return  # canceled meanwhile
        generation.refresh_from_db()
    # Within the submitting phase (and its deadline), before anything reaches the provider.
    if generation.prompt_translation == Generation.PromptTranslation.PENDING:
        if not generation_translate_prompt(generation=generation):
            return  # refused: the job has ended, nothing was sent
        generation.refresh_from_db()
        if not generation.is_active:
            return  # canceled while it was being translated
    if backend.synchronous:
        generation_render(generation=generation, backend=backend)
        return
    # Ask the provider whether a crashed attempt got through before starting another prediction.
    existing = backend.find_submitted(generation=generation) if resumed else None
    if existing is None:
        try:
            lora = lora_source(run=generation.training_run) if generation.training_run else None
            existing = backend.submit(generation=generation, lora=lora, webhook_url=_webhook_url(generation))
        except PermanentProviderError as error:
            generation_fail_with(generation_id=generation.id, kind=error.kind, detail=str(error))
            return
    recorded = generation_record_submission(
        generation_id=generation.id,
        provider_id=existing.id,
        next_poll_at=timezone.now() + timedelta(seconds=_poll_delay(0)),
    )
    if not recorded:
        # The job ended meanwhile, or a concurrent attempt recorded its own prediction first: stop ours.
        _cancel_quietly(backend, existing.id)
        return
    generation_apply_update(generation_id=generation.id, prediction=existing)
    _schedule_poll(generation.id)


def _cancel_quietly(backend: GenerationBackend, provider_id: str) -> None:
    try:
        backend.cancel(provider_id=provider_id)
    except ProviderError as error:
        logger.warning("prediction %s: cancel at the provider failed: %s", provider_id, error)


def _schedule_poll(generation_id: int) -> None:
    generation = Generation.objects.filter(id=generation_id).values("status", "output_urls", "polls").first()
    if generation and generation["status"] == Generation.Status.RUNNING and not generation["output_urls"]:
        tasks.sync_generation.apply_async((generation_id,), countdown=_poll_delay(generation["polls"]))


def _provider_failure(prediction: ProviderPrediction) -> tuple[failures.Kind, str]:
    if prediction.status == "aborted":
        return failures.Kind.DEADLINE, failures.ABORTED["generation"]
    if prediction.status == "canceled":
        kind, detail = failures.Kind.PROVIDER_CANCELED, ""
    else:
        kind = failures.classify(prediction.error or "")
        if kind in (failures.Kind.PROVIDER_DOWN, failures.Kind.EXPIRED_OUTPUTS):
            kind = failures.Kind.UNKNOWN
        detail = failures.reason_of(prediction.error)
    return kind, failures.explain(kind, subject="generation", detail=detail)


def generation_apply_update(*, generation_id: int, prediction: ProviderPrediction) -> None:
    """Apply what the provider reports. Monotonic: a late or repeated update never moves a job back;
    statuses we do not know change nothing (the phase's deadline still ends the job)."""
    if prediction.status in ("starting", "processing"):
        return
    if prediction.status == "succeeded":
        if not prediction.outputs:
            kind = failures.Kind.EXPIRED_OUTPUTS if prediction.data_removed else failures.Kind.BAD_OUTPUT
            detail = "" if prediction.data_removed else "it finished without returning any image"
            generation_fail_with(generation_id=generation_id, kind=kind, detail=detail)
            return
        if generation_record_outputs(
            generation_id=generation_id, outputs=prediction.outputs[:MAX_OUTPUTS], gpu_seconds=prediction.gpu_seconds
        ):
            tasks.collect_images.delay_on_commit(generation_id)
    elif prediction.status in ("failed", "aborted", "canceled"):
        user_canceled = Generation.objects.filter(id=generation_id, error_kind=failures.Kind.USER_CANCELED).exists()
        if user_canceled:
            generation_end(
                generation_id=generation_id, status=Generation.Status.CANCELED, kind=failures.Kind.USER_CANCELED
            )
            return
        kind, message = _provider_failure(prediction)
        status = Generation.Status.CANCELED if kind == failures.Kind.PROVIDER_CANCELED else Generation.Status.FAILED
        generation_end(generation_id=generation_id, status=status, kind=kind, message=message)
    else:
        logger.warning("generation %s: unknown provider status %r", generation_id, prediction.status[:40])


def generation_sync(*, generation_id: int) -> None:
    """Poll the provider for a running job (covers lost webhooks); ends jobs past their phase's deadline."""
    now = timezone.now()
    generation = Generation.objects.filter(id=generation_id).first()
    if (
        generation is None
        or generation.status != Generation.Status.RUNNING
        or not generation.provider_id
        or generation.output_urls
    ):
        return
    if now > phase_deadline(generation):
        generation_expire(generation_id=generation.id)
        return
    # Claim this poll: duplicate poll messages (reconcile and the job's own chain) do one fetch.
    claimed = Generation.objects.filter(
        id=generation.id,
        status=Generation.Status.RUNNING,
        polls=generation.polls,
        next_poll_at__lte=now + timedelta(seconds=0.5),
    ).update(polls=generation.polls + 1, next_poll_at=now + timedelta(seconds=_poll_delay(generation.polls + 1)))
    if not claimed:
        return
    backend = backend_for(generation.backend)
    generation_apply_update(generation_id=generation.id, prediction=backend.fetch(provider_id=generation.provider_id))
    _schedule_poll(generation.id)


def generation_cancel_at_provider(*, generation_id: int) -> None:
    """Stop the prediction of a job that has ended on our side (best effort)."""
    generation = Generation.objects.filter(id=generation_id, status__in=Generation.TERMINAL).first()
    if generation is None or generation.output_urls:
        return
    backend = backend_for(generation.backend)
    provider_id = generation.provider_id
    if not provider_id and not backend.synchronous:
        # A submission whose reply was lost may have started a prediction we never recorded.
        found = backend.find_submitted(generation=generation)
        provider_id = found.id if found else None
    if not provider_id:
        return
    try:
        backend.cancel(provider_id=provider_id)
    except PermanentProviderError as error:
        # It no longer exists there (or never will be stoppable): nothing left to do.
        logger.warning("generation %s: the provider refused the cancel: %s", generation_id, error)


def generation_add_worker_time(*, generation_id: int, ms: int) -> None:
    """Add the worker time one step took to its job (`worker_ms`)."""
    Generation.objects.filter(id=generation_id).update(worker_ms=F("worker_ms") + ms)
