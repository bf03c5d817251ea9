"""A generation job's life: recording it, and every change of its status, in one place.

Statuses only move forward (queued -> running -> succeeded, failed or canceled); each change below
is one conditional UPDATE (core.lifecycle.transition), so a late or repeated message never moves a
job back. A job ends only through `generation_end`. The other modules (running, collection,
reconcile) change a job's status only through these functions.
"""

import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from accounts.models import User
from core import failures
from core.exceptions import PermanentProviderError, ProviderError
from core.leases import FREE
from core.lifecycle import transition
from generation import tasks
from generation.models import GeneratedImage, Generation
from generation.providers import backend_for
from generation.selectors import generation_estimate, generation_stored_indexes
from generation.services.limits import generation_ensure_allowed, generation_ensure_model
from generation.services.prompts import prompt_plan, prompt_tidy, prompt_with_trigger
from projects.events import event_record
from projects.models import Project, ProjectEvent
from training.models import TrainingRun

logger = logging.getLogger(__name__)


class Defaults(TypedDict):
    num_outputs: int
    aspect_ratio: str
    guidance: float
    steps: int
    lora_scale: float
    output_format: str


DEFAULTS: Defaults = {
    "num_outputs": 4,
    "aspect_ratio": Generation.AspectRatio.SQUARE,
    "guidance": 3.0,
    "steps": 28,
    "lora_scale": 1.0,
    "output_format": Generation.OutputFormat.WEBP,
}


def generation_create(
    *,
    user: User,
    training_run: TrainingRun | None,
    prompt: str,
    num_outputs: int = DEFAULTS["num_outputs"],
    aspect_ratio: str = DEFAULTS["aspect_ratio"],
    seed: int | None = None,
    guidance: float = DEFAULTS["guidance"],
    steps: int = DEFAULTS["steps"],
    lora_scale: float = DEFAULTS["lora_scale"],
    output_format: str = DEFAULTS["output_format"],
    translate_prompt: bool = True,
    suggestion: str = "",
) -> Generation:
    """Record a queued job and hand it to a worker. Raises GenerationNotAllowed with the reason.

    The prompt is kept as typed; what is sent is its English (translated by the submit step, or a
    template's or suggestion's original, see prompt_plan) unless it is English already or
    `translate_prompt` is off, with the trigger word added when it is missing.
    """
    generation_ensure_model(user=user, training_run=training_run)
    trigger_word = training_run.trigger_word if training_run else None
    typed = prompt_tidy(prompt)
    # The active language (the user's on the website, Accept-Language on the API) is the likeliest
    # language of a terse prompt.
    plan = prompt_plan(
        prompt=typed,
        trigger_word=trigger_word,
        translate=translate_prompt,
        suggestion=suggestion,
        interface_language=(translation.get_language() or "").split("-")[0] or None,
    )
    # Until a pending translation is recorded, the prompt to send is the typed one.
    prompt, _ = prompt_with_trigger(prompt=plan.english or typed, trigger_word=trigger_word)
    with transaction.atomic():
        base_model = training_run is None
        generation_ensure_allowed(user=user, prompt=prompt, num_outputs=num_outputs, base_model=base_model)
        backend = backend_for(base_model=base_model)
        generation = Generation(
            user=user,
            training_run=training_run,
            project_id=training_run.project_id if training_run else None,
            prompt=prompt,
            prompt_typed=typed,
            prompt_language=plan.language,
            translate_prompt=translate_prompt,
            prompt_translation=plan.translation,
            num_outputs=num_outputs,
            aspect_ratio=aspect_ratio,
            seed=secrets.randbelow(2**31) if seed is None else seed,
            guidance=guidance,
            steps=steps,
            lora_scale=lora_scale,
            output_format=output_format,
            backend=backend.name,
            estimated_cost=generation_estimate(num_outputs=num_outputs, simulated=backend.simulated),
        )
        generation.full_clean()
        generation.save()
        if generation.project_id is not None:
            event_record(
                project_id=generation.project_id,
                kind=ProjectEvent.Kind.GENERATION_STARTED,
                actor=user,
                generation=generation.id,
            )
        tasks.run_generation.delay_on_commit(generation.id)
    return generation


def phase_deadline(generation: Generation) -> datetime:
    """When the job's current phase runs out (see settings.GENERATION_STATE_DEADLINE_MINUTES)."""
    minutes = settings.GENERATION_STATE_DEADLINE_MINUTES[generation.phase]
    return generation.state_changed_at + timedelta(minutes=minutes)


# Status changes
# ------------------------------------------------------------------------------


def _record(generation_id: int, kind: str, actor: User | None = None, **subject: Any) -> None:
    """The event of a change the caller won (in its transaction), for a job of a project's model."""
    project_id = Generation.objects.filter(id=generation_id).values_list("project_id", flat=True).first()
    if project_id is not None:
        event_record(project_id=project_id, kind=kind, actor=actor, generation=generation_id, **subject)


def _moved(generation_id: int, won: bool, phase: str) -> bool:
    if won:
        _record(generation_id, ProjectEvent.Kind.GENERATION_PROGRESS, phase=phase)
    return won


def _entering(**fields) -> dict:
    """The fields of a job that moves to its next phase within RUNNING (submitting, running,
    collecting: phases, not statuses, so `transition` keeps the status): its deadline and step
    budget start anew."""
    return {**fields, "state_changed_at": timezone.now(), "attempts": 0}


def generation_start(*, generation_id: int) -> bool:
    """Queued -> running (submitting); False if the job is no longer queued (canceled meanwhile).
    Queued and submitting share the attempt count: both are one step."""
    with transaction.atomic():
        won = transition(
            Generation.objects.filter(id=generation_id),
            sources=[Generation.Status.QUEUED],
            to=Generation.Status.RUNNING,
            started_at=timezone.now(),
            attempts=F("attempts"),
        )
        return _moved(generation_id, won, "submitting")


def generation_record_submission(*, generation_id: int, provider_id: str, next_poll_at: datetime) -> bool:
    """Submitting -> running at the provider, its lease released; False if the job ended meanwhile
    or a concurrent attempt recorded its own prediction first."""
    with transaction.atomic():
        won = transition(
            Generation.objects.filter(id=generation_id, provider_id__isnull=True),
            sources=[Generation.Status.RUNNING],
            **_entering(provider_id=provider_id, next_poll_at=next_poll_at),
            **FREE,
        )
        return _moved(generation_id, won, "running")


def generation_record_outputs(*, generation_id: int, outputs: list[str], gpu_seconds: float | None) -> bool:
    """Running -> collecting: the provider made these images; False if they were recorded already."""
    with transaction.atomic():
        won = transition(
            Generation.objects.filter(id=generation_id, output_urls=[]),
            sources=[Generation.Status.RUNNING],
            **_entering(
                output_urls=outputs,
                gpu_seconds=gpu_seconds,
                # When the reconcile task tries to store the images again, if this attempt stops.
                next_poll_at=timezone.now() + timedelta(seconds=settings.REDRIVE_AFTER_SECONDS),
            ),
        )
        return _moved(generation_id, won, "collecting")


def generation_charge(*, generation: Generation, billed_images: int) -> None:
    """Record the cost of the images the provider made (and bills) for a job still running."""
    Generation.objects.filter(id=generation.id, status=Generation.Status.RUNNING).update(
        cost=generation_estimate(num_outputs=billed_images, simulated=generation.simulated)
    )


def generation_end(
    *,
    generation_id: int,
    status: str,
    kind: failures.Kind | None = None,
    message: str | None = None,
    sources: Iterable[str] = Generation.ACTIVE,
    actor: User | None = None,
    **fields: Any,
) -> bool:
    """End a job that is in one of `sources` with the terminal `status`: the one place a job
    reaches succeeded, failed or canceled. A failed or canceled job records its `kind` and message
    (by default the kind's explanation); a succeeded one's `message` is the note on what is missing.
    A person's succeeded job then has its likeness scored. False if it had ended already (or moved
    on meanwhile) and nothing follows. `actor`: who ended it (a cancel), None for the system."""
    if status not in Generation.TERMINAL:
        raise ValueError(f"{status!r} does not end a job")
    if status == Generation.Status.SUCCEEDED:
        fields["error"] = message or ""
    else:
        if kind is None:
            raise ValueError("a failed or canceled job needs its kind of failure")
        fields["error"] = failures.explain(kind, subject="generation") if message is None else message
        fields["error_kind"] = kind
    with transaction.atomic():
        ended = transition(
            Generation.objects.filter(id=generation_id),
            sources=sources,
            to=status,
            completed_at=timezone.now(),
            attempts=F("attempts"),
            **fields,
        )
        if ended:
            _record(generation_id, ProjectEvent.Kind.GENERATION_ENDED, actor=actor, status=status)
        if ended and status == Generation.Status.SUCCEEDED:
            if Generation.objects.filter(id=generation_id, project__category=Project.Category.PERSON).exists():
                tasks.score_likeness.delay_on_commit(generation_id)
    return ended


def generation_fail(*, generation_id: int, message: str, kind: failures.Kind = failures.Kind.UNKNOWN) -> None:
    generation_end(generation_id=generation_id, status=Generation.Status.FAILED, kind=kind, message=message)


def generation_fail_with(*, generation_id: int, kind: failures.Kind, detail: str = "") -> None:
    """Fail the job with the explanation of this kind of failure (and the provider's detail)."""
    generation_fail(
        generation_id=generation_id,
        message=failures.explain(kind, subject="generation", detail=detail[:300]),
        kind=kind,
    )


def generation_finish(*, generation: Generation, billed_images: int, problems: list[str]) -> None:
    """End a job that got this far: succeeded with what was stored (and a note), else failed.

    The cost counts every image the provider made (and bills), whether or not we could store it.
    """
    stored = GeneratedImage.objects.filter(generation_id=generation.id).count()
    if stored == 0:
        generation_charge(generation=generation, billed_images=billed_images)
        expired = problems and all("deleted" in p for p in problems)
        generation_end(
            generation_id=generation.id,
            status=Generation.Status.FAILED,
            kind=failures.Kind.EXPIRED_OUTPUTS if expired else failures.Kind.BAD_OUTPUT,
            message=failures.IMAGES_NOT_STORED["none"].format(problems="; ".join(problems)),
        )
        return
    note = (
        failures.IMAGES_NOT_STORED["some"].format(
            stored=stored, total=generation.num_outputs, problems="; ".join(problems)
        )
        if problems
        else ""
    )
    generation_end(
        generation_id=generation.id,
        status=Generation.Status.SUCCEEDED,
        sources=[Generation.Status.RUNNING],
        message=note,
        cost=generation_estimate(num_outputs=billed_images, simulated=generation.simulated),
    )


def generation_note_error(*, generation_id: int, error: Exception) -> None:
    """Remember the latest error a step met (operators; and the message if the job ends on it)."""
    Generation.objects.filter(id=generation_id, status__in=Generation.ACTIVE).update(last_error=str(error)[:500])


# Giving up and canceling
# ------------------------------------------------------------------------------


def generation_give_up_step(*, generation: Generation) -> None:
    """The job's step used its attempt budget: end it, keeping what was stored."""
    phase = generation.phase if generation.phase in failures.GENERATION_EXHAUSTED else "submitting"
    message = failures.GENERATION_EXHAUSTED[phase].format(attempts=settings.GENERATION_STEP_ATTEMPTS)
    message = failures.with_last_error(message + " Try again later.", generation.last_error)
    logger.warning("generation %s: %s used its attempts", generation.id, generation.phase)
    stored = generation_stored_indexes(generation_id=generation.id)
    if generation.status == Generation.Status.RUNNING and stored:
        generation_finish(
            generation=generation, billed_images=len(generation.output_urls) or len(stored), problems=[message]
        )
        return
    if generation.output_urls:
        generation_charge(generation=generation, billed_images=len(generation.output_urls))
    kind = failures.kind_of_last_error(generation.last_error)
    if generation_end(generation_id=generation.id, status=Generation.Status.FAILED, kind=kind, message=message):
        generation_stop_at_provider(generation=generation)


def generation_give_up(*, generation_id: int, error: Exception) -> None:
    """Retries ran out on provider errors, or a permanent one escaped a step. A job the provider
    has (or may have) taken is left to the reconcile task, within its phase's deadline: its
    images may still come. Otherwise keep what was stored, the job succeeding in part, else fail."""
    generation = Generation.objects.select_related("project").filter(id=generation_id).first()
    if generation is None or not generation.is_active:
        return
    generation_note_error(generation_id=generation_id, error=error)
    generation.refresh_from_db()
    permanent = isinstance(error, PermanentProviderError)
    if not permanent and _provider_may_have(generation) and timezone.now() < phase_deadline(generation):
        logger.warning("generation %s: retries ran out (%s); the reconcile task will try again", generation_id, error)
        return
    kind = getattr(error, "kind", failures.Kind.PROVIDER_DOWN)
    detail = "" if kind == failures.Kind.INTERNAL else str(error).splitlines()[0][:300]
    message = failures.explain(kind, subject="generation", detail=detail)
    stored = generation_stored_indexes(generation_id=generation_id)
    if generation.status == Generation.Status.RUNNING and stored:
        generation_finish(
            generation=generation, billed_images=len(generation.output_urls) or len(stored), problems=[message]
        )
    elif generation_end(generation_id=generation_id, status=Generation.Status.FAILED, kind=kind, message=message):
        generation_stop_at_provider(generation=generation)


def generation_stop_at_provider(*, generation: Generation) -> None:
    """A job we ended while the provider may still work on it (its phase as read before the end):
    cancel that, best effort."""
    if generation.phase in ("submitting", "running"):
        tasks.cancel_at_provider.delay_on_commit(generation.id)


def _provider_may_have(generation: Generation) -> bool:
    if generation.status != Generation.Status.RUNNING:
        return False
    if generation.provider_id:
        return True
    backend = backend_for(generation.backend)
    if backend.synchronous:
        return False
    # Submitting failed every time; a timed-out attempt may still have got through.
    try:
        return backend.find_submitted(generation=generation) is not None
    except ProviderError:
        return True


def generation_cancel(*, generation: Generation, actor: User | None = None) -> Generation:
    """Stop a job. Images already stored are kept. `actor`: who canceled it (the activity feed)."""
    generation.refresh_from_db()
    if generation.is_active:
        # Recorded first: a "canceled" webhook racing this call is then read as the user's cancel.
        Generation.objects.filter(id=generation.id, status__in=Generation.ACTIVE).update(
            error_kind=failures.Kind.USER_CANCELED
        )
        if generation.provider_id and not generation.output_urls:
            # Outside any transaction: a network call.
            try:
                backend_for(generation.backend).cancel(provider_id=generation.provider_id)
            except ProviderError:
                Generation.objects.filter(id=generation.id, status__in=Generation.ACTIVE).update(error_kind="")
                raise
        generation_end(
            generation_id=generation.id,
            status=Generation.Status.CANCELED,
            kind=failures.Kind.USER_CANCELED,
            actor=actor,
        )
        generation.refresh_from_db()
    return generation
