import io
import logging
import re
import secrets
import statistics
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import User
from core import failures
from core.exceptions import OutputGone, OutputUnusable, PermanentProviderError, ProviderError, Refusal
from core.leases import FREE, lease_claim, lease_expired, lease_seconds, new_attempt, released_on_error
from core.money import money
from generation.backends.base import UNREADABLE_OUTPUT, GenerationBackend, LoraSource, ProviderPrediction
from generation.models import GeneratedImage, Generation, GenerationLimit
from projects import faces, imaging
from projects.models import Photo, Project
from projects.services import storage_delete_files
from training.models import TrainingRun

logger = logging.getLogger(__name__)

# The simulator's name, as jobs record it: simulated jobs are never charged (Generation.simulated).
DEMO_BACKEND = "demo"
BACKENDS = {
    DEMO_BACKEND: "generation.backends.demo.DemoGenerationBackend",
    "replicate": "generation.backends.replicate.ReplicateGenerationBackend",
    "huggingface": "generation.backends.huggingface.HuggingFaceGenerationBackend",
}
DEFAULTS = {
    "num_outputs": 4,
    "aspect_ratio": Generation.AspectRatio.SQUARE,
    "guidance": 3.0,
    "steps": 28,
    "lora_scale": 1.0,
    "output_format": Generation.OutputFormat.WEBP,
}
# Prompt starters per kind of subject; {trigger} is the model's trigger word.
PROMPT_TEMPLATES = {
    Project.Category.PERSON: [
        (
            "headshot",
            "Headshot",
            "a professional headshot of {trigger}, studio lighting, neutral grey background, 85mm",
        ),
        ("outdoor", "Outdoor portrait", "a candid portrait of {trigger} outdoors at golden hour, soft bokeh"),
        ("linkedin", "Business portrait", "{trigger} in a navy blazer, modern office, natural window light"),
        ("travel", "Travel photo", "a travel photo of {trigger} on a cobblestone street in Lisbon, sunny afternoon"),
        ("black-and-white", "Black and white", "a black and white film portrait of {trigger}, dramatic side light"),
    ],
    Project.Category.PRODUCT: [
        ("studio-white", "Studio on white", "a product photo of {trigger} on a seamless white background, soft shadow"),
        ("lifestyle", "Lifestyle", "{trigger} on a wooden kitchen table, morning light, lifestyle photography"),
        ("flat-lay", "Flat lay", "a flat lay of {trigger} with props on a pastel background, top-down"),
        ("outdoor", "Outdoors", "{trigger} on a rock by a mountain lake, natural light, advertising photo"),
        ("hero", "Hero shot", "a hero shot of {trigger}, dark background, rim light, reflections"),
    ],
}
THUMBNAIL_LONG_SIDE = 512
# MPO: a JPEG with more images after the first (Pillow's name for it); stored as the JPEG it is.
PIL_FORMATS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp"}
LORA_URL_SALT = "generation.lora-url"
LORA_URL_MAX_AGE = 60 * 60
# flux-dev-lora makes at most 4 images; a provider listing more is not believed past this.
MAX_OUTPUTS = 4


class GenerationNotAllowed(Refusal):
    """A generation cannot start now; the message says why."""


def backend_for(name: str | None = None, *, base_model: bool = False) -> GenerationBackend:
    """The backend of an existing job (by name), or the configured one for a new job."""
    if name:
        return import_string(BACKENDS[name])()
    return import_string(settings.GENERATION_BASE_BACKEND if base_model else settings.GENERATION_BACKEND)()


# Prompts, estimates and limits
# ------------------------------------------------------------------------------


def prompt_templates(*, category: str | None) -> list[tuple[str, str, str]]:
    """(key, label, prompt with {trigger}) for a project category; both kinds for the base model."""
    if category in PROMPT_TEMPLATES:
        return PROMPT_TEMPLATES[category]
    return [template for templates in PROMPT_TEMPLATES.values() for template in templates]


def prompt_with_trigger(*, prompt: str, trigger_word: str | None) -> tuple[str, bool]:
    """The prompt with the model's trigger word in it, and whether we had to add it."""
    prompt = " ".join(prompt.split())
    if not trigger_word or re.search(rf"\b{re.escape(trigger_word)}\b", prompt):
        return prompt, False
    return f"a photo of {trigger_word}, {prompt}", True


def generation_estimate(*, num_outputs: int, simulated: bool = False) -> Decimal:
    """What these images cost the user. Simulated (demo) images cost nothing, ever."""
    if simulated:
        return Decimal("0.000")
    return Decimal(str(num_outputs * settings.GENERATION_PRICE_PER_IMAGE)).quantize(Decimal("0.001"), ROUND_HALF_UP)


def new_jobs_simulated(*, base_model: bool = False) -> bool:
    """Whether a job started now runs on the demo simulator (and so costs nothing)."""
    return backend_for(base_model=base_model).simulated


@dataclass(frozen=True)
class Limits:
    concurrent_jobs: int
    images_per_day: int
    monthly_spend: Decimal


def limits_for(*, user: User) -> Limits:
    override = GenerationLimit.objects.filter(user=user).first()

    def pick(field, default):
        value = getattr(override, field, None) if override else None
        return default if value is None else value

    return Limits(
        concurrent_jobs=pick("concurrent_jobs", settings.GENERATION_CONCURRENT_JOBS),
        images_per_day=pick("images_per_day", settings.GENERATION_IMAGES_PER_DAY),
        monthly_spend=pick("monthly_spend", Decimal(str(settings.GENERATION_MONTHLY_SPEND))),
    )


@dataclass(frozen=True)
class Usage:
    limits: Limits
    running: int
    images_today: int
    spent_this_month: Decimal


def generation_usage(*, user: User) -> Usage:
    """What the user has used of their limits: running jobs, images in 24 hours, spend this month."""
    now = timezone.now()
    jobs = Generation.objects.filter(user=user)
    # Jobs that failed or were canceled before the provider made anything cost nothing.
    counted = jobs.exclude(status__in=[Generation.Status.FAILED, Generation.Status.CANCELED], cost__isnull=True)
    today = counted.filter(created_at__gte=now - timedelta(days=1)).aggregate(n=Sum("num_outputs"))["n"] or 0
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # Summed in the database: one row, however many jobs the month holds. Simulated (demo) jobs are
    # never spend, whatever an older row recorded.
    this_month = counted.filter(created_at__gte=month_start).exclude(backend=DEMO_BACKEND)
    spent = this_month.aggregate(total=Sum(Coalesce("cost", "estimated_cost")))["total"] or Decimal(0)
    return Usage(
        limits=limits_for(user=user),
        running=jobs.filter(status__in=Generation.ACTIVE).count(),
        images_today=today,
        spent_this_month=Decimal(spent),
    )


def generation_refusal(*, user: User, prompt: str, num_outputs: int, base_model: bool = False) -> str:
    """Why this user cannot start this generation now, or "" if they can."""
    if not prompt.strip():
        return "Write a prompt: what should the picture show?"
    if len(prompt) > settings.GENERATION_PROMPT_MAX_CHARS:
        return f"The prompt is {len(prompt)} characters long; the limit is {settings.GENERATION_PROMPT_MAX_CHARS}."
    usage = generation_usage(user=user)
    limits = usage.limits
    if usage.running >= limits.concurrent_jobs:
        return (
            f"You already have {usage.running} generation(s) running, your limit is {limits.concurrent_jobs}. "
            "Wait for one to finish."
        )
    if usage.images_today + num_outputs > limits.images_per_day:
        left = max(0, limits.images_per_day - usage.images_today)
        return (
            f"{num_outputs} more image(s) would pass your limit of {limits.images_per_day} a day "
            f"({left} left in the last 24 hours)."
        )
    estimate = generation_estimate(num_outputs=num_outputs, simulated=new_jobs_simulated(base_model=base_model))
    if estimate and usage.spent_this_month + estimate > limits.monthly_spend:
        return (
            f"These images (about {money(estimate)}) would take you over your monthly limit of "
            f"{money(limits.monthly_spend)} ({money(usage.spent_this_month)} used)."
        )
    return ""


# Creating and running jobs
# ------------------------------------------------------------------------------


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
) -> Generation:
    """Record a queued job and hand it to a worker. Raises GenerationNotAllowed with the reason."""
    from generation.tasks import run_generation

    if training_run is not None and (
        training_run.project.owner_id != user.id
        or training_run.status != TrainingRun.Status.SUCCEEDED
        or not training_run.has_lora
    ):
        raise GenerationNotAllowed("Pick one of your trained models.")
    trigger_word = training_run.trigger_word if training_run else None
    prompt, _ = prompt_with_trigger(prompt=prompt, trigger_word=trigger_word)
    with transaction.atomic():
        # The lock makes the concurrency and spend limits hold against parallel requests.
        User.objects.select_for_update().filter(id=user.id).first()
        base_model = training_run is None
        refusal = generation_refusal(user=user, prompt=prompt, num_outputs=num_outputs, base_model=base_model)
        if refusal:
            raise GenerationNotAllowed(refusal)
        backend = backend_for(base_model=base_model)
        generation = Generation(
            user=user,
            training_run=training_run,
            project_id=training_run.project_id if training_run else None,
            prompt=prompt,
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
        run_generation.delay_on_commit(generation.id)
    return generation


def lora_source(*, run: TrainingRun) -> LoraSource:
    """Where a provider downloads this model's LoRA: the private Hub repo, or a short-lived URL."""
    from integrations.huggingface import lora_download_url

    if run.hf_repo_id and settings.HF_TOKEN:
        return LoraSource(url=lora_download_url(repo_id=run.hf_repo_id), hf_token=settings.HF_TOKEN)
    if settings.AWS_STORAGE_BUCKET_NAME:
        return LoraSource(url=default_storage.url(run.lora_file.name, expire=LORA_URL_MAX_AGE))
    token = signing.dumps(run.id, salt=LORA_URL_SALT)
    # The path ends in .safetensors: that is how the model recognises a direct weights URL.
    return LoraSource(url=settings.SITE_URL + reverse("generation:lora", kwargs={"token": token}))


def lora_run_from_token(*, token: str) -> TrainingRun | None:
    try:
        run_id = signing.loads(token, salt=LORA_URL_SALT, max_age=LORA_URL_MAX_AGE)
    except signing.BadSignature:
        return None
    return TrainingRun.objects.filter(id=run_id, status=TrainingRun.Status.SUCCEEDED).exclude(lora_file="").first()


def _webhook_url(generation: Generation) -> str | None:
    # Providers only call public HTTPS addresses; a laptop has none, and polling covers it.
    if not settings.SITE_URL.startswith("https://"):
        return None
    return settings.SITE_URL + reverse("generation:webhook", kwargs={"generation_id": generation.id})


def _poll_delay(polls: int) -> float:
    return settings.GENERATION_POLL_SECONDS * min(2 ** (polls // 10), 8)


def _entering(**fields) -> dict:
    """The fields of a job that moves to its next phase: its deadline and step budget start anew."""
    return {**fields, "state_changed_at": timezone.now(), "attempts": 0}


def phase_deadline(generation: Generation):
    """When the job's current phase runs out (see settings.GENERATION_STATE_DEADLINE_MINUTES)."""
    minutes = settings.GENERATION_STATE_DEADLINE_MINUTES[generation.phase]
    return generation.state_changed_at + timedelta(minutes=minutes)


def _phase_filter(phase: str) -> Q:
    running = Q(status=Generation.Status.RUNNING)
    return {
        "queued": Q(status=Generation.Status.QUEUED),
        "submitting": running & Q(provider_id__isnull=True),
        "running": running & Q(provider_id__isnull=False, output_urls=[]),
        "collecting": running & ~Q(output_urls=[]),
    }[phase]


def _overdue() -> Q:
    now = timezone.now()
    overdue = Q(pk__in=[])
    for phase, minutes in settings.GENERATION_STATE_DEADLINE_MINUTES.items():
        overdue |= _phase_filter(phase) & Q(state_changed_at__lt=now - timedelta(minutes=minutes))
    return overdue


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
            _give_up_step(generation)
            return
        _run(generation)
        job.filter(lease_holder=attempt).update(**FREE)


def _run(generation: Generation) -> None:
    backend = backend_for(generation.backend)
    # A job found RUNNING without a provider id crashed (or timed out) while submitting.
    resumed = generation.status == Generation.Status.RUNNING
    if not resumed:
        # Queued and submitting share the attempt count: both are this one step.
        if not Generation.objects.filter(id=generation.id, status=Generation.Status.QUEUED).update(
            status=Generation.Status.RUNNING, started_at=timezone.now(), state_changed_at=timezone.now()
        ):
            return  # canceled meanwhile
        generation.refresh_from_db()
    if backend.synchronous:
        _render(generation, backend)
        return
    # Ask the provider whether a crashed attempt got through before starting another prediction.
    existing = backend.find_submitted(generation=generation) if resumed else None
    if existing is None:
        try:
            lora = lora_source(run=generation.training_run) if generation.training_run_id else None
            existing = backend.submit(generation=generation, lora=lora, webhook_url=_webhook_url(generation))
        except PermanentProviderError as error:
            _fail_with(generation.id, error.kind, detail=str(error))
            return
    recorded = Generation.objects.filter(
        id=generation.id, status=Generation.Status.RUNNING, provider_id__isnull=True
    ).update(
        **_entering(provider_id=existing.id, next_poll_at=timezone.now() + timedelta(seconds=_poll_delay(0))),
        **FREE,
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
    from generation.tasks import sync_generation

    generation = Generation.objects.filter(id=generation_id).values("status", "output_urls", "polls").first()
    if generation and generation["status"] == Generation.Status.RUNNING and not generation["output_urls"]:
        sync_generation.apply_async((generation_id,), countdown=_poll_delay(generation["polls"]))


def _provider_failure(prediction: ProviderPrediction) -> tuple[str, str]:
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
    from generation.tasks import collect_images

    if prediction.status in ("starting", "processing"):
        return
    if prediction.status == "succeeded":
        if not prediction.outputs:
            kind = failures.Kind.EXPIRED_OUTPUTS if prediction.data_removed else failures.Kind.BAD_OUTPUT
            detail = "" if prediction.data_removed else "it finished without returning any image"
            _fail_with(generation_id, kind, detail=detail)
            return
        recorded = Generation.objects.filter(id=generation_id, status=Generation.Status.RUNNING, output_urls=[]).update(
            **_entering(
                output_urls=prediction.outputs[:MAX_OUTPUTS],
                gpu_seconds=prediction.gpu_seconds,
                # When the reconcile task tries to store the images again, if this attempt stops.
                next_poll_at=timezone.now() + timedelta(seconds=settings.REDRIVE_AFTER_SECONDS),
            )
        )
        if recorded:
            collect_images.delay_on_commit(generation_id)
    elif prediction.status in ("failed", "aborted", "canceled"):
        user_canceled = Generation.objects.filter(id=generation_id, error_kind=failures.Kind.USER_CANCELED).exists()
        if user_canceled:
            _end(generation_id, Generation.Status.CANCELED, failures.Kind.USER_CANCELED)
            return
        kind, message = _provider_failure(prediction)
        status = Generation.Status.CANCELED if kind == failures.Kind.PROVIDER_CANCELED else Generation.Status.FAILED
        _end(generation_id, status, kind, message=message)
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


def generation_expire(*, generation_id: int) -> bool:
    """End a job whose phase ran past its deadline, keeping any image already stored. Decided in
    the database alone; stopping the prediction is best effort, in a task of its own."""
    generation = Generation.objects.filter(_overdue(), id=generation_id).select_related("project").first()
    if generation is None:
        return False
    phase = generation.phase
    message = failures.with_last_error(
        failures.GENERATION_DEADLINES[phase].format(minutes=settings.GENERATION_STATE_DEADLINE_MINUTES[phase]),
        generation.last_error,
    )
    logger.warning("generation %s: %s ran past its deadline", generation.id, phase)
    if phase == "collecting" and _stored_indexes(generation.id):
        _finish(generation, billed_images=len(generation.output_urls), problems=[message])
        return True
    if phase == "collecting":
        Generation.objects.filter(id=generation.id, status=Generation.Status.RUNNING).update(
            cost=generation_estimate(num_outputs=len(generation.output_urls), simulated=generation.simulated)
        )
    ended = _end(generation.id, Generation.Status.FAILED, failures.Kind.DEADLINE, message=message)
    if ended:
        _stop_at_provider(generation)
    return ended


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


# Storing images
# ------------------------------------------------------------------------------


class ImageRejected(Exception):
    pass


def _store_image(generation: Generation, *, index: int, content: bytes, seed: int) -> bool:
    """Store one output; False if it was stored already (by an earlier or concurrent attempt)."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            image_format = PIL_FORMATS.get(image.format or "")
            if image_format is None:
                raise ImageRejected(f"unsupported image format {image.format}")
            image.load()
            width, height = image.size
            thumbnail = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ImageRejected(f"output {index + 1} is not a usable image ({exc})") from exc
    thumbnail.thumbnail((THUMBNAIL_LONG_SIDE, THUMBNAIL_LONG_SIDE), Image.Resampling.LANCZOS)
    thumb_buffer = io.BytesIO()
    thumbnail.save(thumb_buffer, "WEBP", quality=80)

    folder = f"users/{generation.user_id}/generations/{generation.id}"
    key = secrets.token_hex(8)
    file_name = default_storage.save(f"{folder}/{index}-{key}.{image_format}", ContentFile(content))
    thumb_name = default_storage.save(f"{folder}/{index}-{key}-thumb.webp", ContentFile(thumb_buffer.getvalue()))
    try:
        with transaction.atomic():
            image = GeneratedImage.objects.create(
                generation=generation,
                index=index,
                file=file_name,
                thumbnail=thumb_name,
                width=width,
                height=height,
                seed=seed,
                format=image_format,
                bytes=len(content),
            )
    except IntegrityError:
        default_storage.delete(file_name)
        default_storage.delete(thumb_name)
        return False
    _add_to_library(image.id)
    return True


def _add_to_library(image_id: int) -> None:
    from library.tasks import add_generated_image

    add_generated_image.delay_on_commit(image_id)


def _stored_indexes(generation_id: int) -> set[int]:
    return set(GeneratedImage.objects.filter(generation_id=generation_id).values_list("index", flat=True))


def generation_collect(*, generation_id: int) -> None:
    """Download the provider's outputs and store each one once. Safe to run twice; each run is one
    try of the step, within its attempt budget."""
    claimed = Generation.objects.filter(id=generation_id, status=Generation.Status.RUNNING).exclude(output_urls=[])
    if not claimed.update(attempts=F("attempts") + 1):
        return
    generation = Generation.objects.select_related("project").get(id=generation_id)
    if generation.attempts > settings.GENERATION_STEP_ATTEMPTS:
        _give_up_step(generation)
        return
    backend = backend_for(generation.backend)
    stored = _stored_indexes(generation.id)
    problems = []
    for index, url in enumerate(generation.output_urls):
        if index in stored:
            continue
        try:
            if url.startswith(UNREADABLE_OUTPUT):
                raise OutputUnusable(f"output {index + 1} is not an image address")
            content = backend.download(url=url, max_bytes=settings.GENERATION_MAX_IMAGE_BYTES)
            _store_image(generation, index=index, content=content, seed=generation.seed)
        except OutputGone:
            problems.append(f"image {index + 1} was deleted by the provider before we could fetch it")
        except (OutputUnusable, OSError, ImageRejected) as error:
            problems.append(str(error)[:200])
    _finish(generation, billed_images=len(generation.output_urls), problems=problems)


def _render(generation: Generation, backend: GenerationBackend) -> None:
    problems = []
    stored_before = _stored_indexes(generation.id)
    made = len(stored_before)  # one call per image, each billed: count the ones the provider made
    try:
        for index, rendered in backend.render(generation=generation, skip=stored_before):
            made += 1
            if not Generation.objects.filter(id=generation.id, status=Generation.Status.RUNNING).exists():
                return  # canceled meanwhile
            try:
                _store_image(generation, index=index, content=rendered.content, seed=rendered.seed)
            except ImageRejected as error:
                problems.append(str(error))
    except PermanentProviderError as error:
        if not _stored_indexes(generation.id):
            _fail_with(generation.id, error.kind, detail=str(error))
            return
        problems.append(str(error))
    _finish(generation, billed_images=made, problems=problems)


def _finish(generation: Generation, *, billed_images: int, problems: list[str]) -> None:
    """End a job that got this far: succeeded with what was stored (and a note), else failed.

    The cost counts every image the provider made (and bills), whether or not we could store it.
    """
    from generation.tasks import score_likeness

    stored = GeneratedImage.objects.filter(generation_id=generation.id).count()
    cost = generation_estimate(num_outputs=billed_images, simulated=generation.simulated)
    if stored == 0:
        Generation.objects.filter(id=generation.id, status=Generation.Status.RUNNING).update(cost=cost)
        kind = failures.Kind.EXPIRED_OUTPUTS if problems and all("deleted" in p for p in problems) else ""
        _end(
            generation.id,
            Generation.Status.FAILED,
            kind or failures.Kind.BAD_OUTPUT,
            message="No image could be stored: " + "; ".join(problems),
        )
        return
    note = f"{stored} of {generation.num_outputs} images stored: " + "; ".join(problems) if problems else ""
    finished = Generation.objects.filter(id=generation.id, status=Generation.Status.RUNNING).update(
        status=Generation.Status.SUCCEEDED,
        cost=cost,
        error=note,
        completed_at=timezone.now(),
        state_changed_at=timezone.now(),
        **FREE,
    )
    if finished and generation.project_id and generation.project.category == Project.Category.PERSON:
        score_likeness.delay_on_commit(generation.id)


# Likeness
# ------------------------------------------------------------------------------


def likeness_from_distance(distance: float) -> int:
    """0-100: 100 at a distance of 0.3 or less (clearly the same person), 50 at dlib's 0.6 threshold."""
    return max(0, min(100, round((0.9 - distance) / 0.6 * 100)))


def generation_score_likeness(*, generation_id: int) -> None:
    """Compare the faces in a person model's images with the faces of its training photos."""
    generation = Generation.objects.select_related("project").filter(id=generation_id).first()
    if generation is None or generation.project is None or generation.project.category != Project.Category.PERSON:
        return
    references = [
        descriptor
        for descriptor in Photo.objects.filter(
            project_id=generation.project_id, status=Photo.Status.READY, face_descriptor__isnull=False
        ).values_list("face_descriptor", flat=True)
        if descriptor
    ]
    for image in GeneratedImage.objects.filter(generation_id=generation.id, face_count__isnull=True):
        with default_storage.open(image.file.name, "rb") as stored:
            report = faces.describe_faces(imaging.analysis_image(stored))
        distance = None
        if report.descriptor is not None and references:
            distance = round(
                statistics.median(faces.descriptor_distance(report.descriptor, ref) for ref in references), 4
            )
        GeneratedImage.objects.filter(id=image.id).update(
            face_count=report.count,
            likeness_distance=distance,
            likeness=likeness_from_distance(distance) if distance is not None else None,
        )


# Ending, canceling and cleaning up
# ------------------------------------------------------------------------------


def _end(generation_id: int, status: str, kind: str, *, message: str | None = None) -> bool:
    """End an active job; the message defaults to the kind's explanation."""
    if message is None:
        message = failures.explain(kind, subject="generation")
    return bool(
        Generation.objects.filter(id=generation_id, status__in=Generation.ACTIVE).update(
            status=status,
            error=message,
            error_kind=kind,
            completed_at=timezone.now(),
            state_changed_at=timezone.now(),
            **FREE,
        )
    )


def generation_fail(*, generation_id: int, message: str, kind: str = failures.Kind.UNKNOWN) -> None:
    _end(generation_id, Generation.Status.FAILED, kind, message=message)


def _fail_with(generation_id: int, kind: str, *, detail: str = "") -> None:
    generation_fail(
        generation_id=generation_id,
        message=failures.explain(kind, subject="generation", detail=detail[:300]),
        kind=kind,
    )


def generation_note_error(*, generation_id: int, error: Exception) -> None:
    """Remember the latest error a step met (operators; and the message if the job ends on it)."""
    Generation.objects.filter(id=generation_id, status__in=Generation.ACTIVE).update(last_error=str(error)[:500])


def _give_up_step(generation: Generation) -> None:
    """The job's step used its attempt budget: end it, keeping what was stored."""
    phase = generation.phase if generation.phase in failures.GENERATION_EXHAUSTED else "submitting"
    message = failures.GENERATION_EXHAUSTED[phase].format(attempts=settings.GENERATION_STEP_ATTEMPTS)
    message = failures.with_last_error(message + " Try again later.", generation.last_error)
    logger.warning("generation %s: %s used its attempts", generation.id, generation.phase)
    if generation.status == Generation.Status.RUNNING and _stored_indexes(generation.id):
        _finish(
            generation,
            billed_images=len(generation.output_urls) or len(_stored_indexes(generation.id)),
            problems=[message],
        )
    else:
        if generation.output_urls:
            Generation.objects.filter(id=generation.id, status=Generation.Status.RUNNING).update(
                cost=generation_estimate(num_outputs=len(generation.output_urls), simulated=generation.simulated)
            )
        if _end(
            generation.id, Generation.Status.FAILED, failures.kind_of_last_error(generation.last_error), message=message
        ):
            _stop_at_provider(generation)


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
    if generation.status == Generation.Status.RUNNING and _stored_indexes(generation_id):
        _finish(
            generation,
            billed_images=len(generation.output_urls) or len(_stored_indexes(generation_id)),
            problems=[message],
        )
    elif _end(generation_id, Generation.Status.FAILED, kind, message=message):
        _stop_at_provider(generation)


def _stop_at_provider(generation: Generation) -> None:
    """A job we ended while the provider may still work on it (its phase as read before the end):
    cancel that, best effort."""
    from generation.tasks import cancel_at_provider

    if generation.phase in ("submitting", "running"):
        cancel_at_provider.delay_on_commit(generation.id)


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


def generation_cancel(*, generation: Generation) -> Generation:
    """Stop a job. Images already stored are kept."""
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
        _end(generation.id, Generation.Status.CANCELED, failures.Kind.USER_CANCELED)
        generation.refresh_from_db()
    return generation


def generation_reconcile(*, batch_size: int = 100) -> int:
    """Re-drive jobs that should have moved on: end those past their phase's deadline, and re-send
    lost messages, missed polls and unstored images."""
    from generation.tasks import collect_images, run_generation, sync_generation

    count = 0
    for generation_id in Generation.objects.filter(_overdue()).values_list("id", flat=True)[:batch_size]:
        count += generation_expire(generation_id=generation_id)
    now = timezone.now()
    stale = now - timedelta(seconds=settings.REDRIVE_AFTER_SECONDS)
    running = Generation.objects.filter(status=Generation.Status.RUNNING)
    # Queued but never picked up (a lost message), or started and never recorded (an attempt that
    # stopped: its lease is free again).
    lost = Generation.objects.filter(lease_expired()).filter(
        Q(status=Generation.Status.QUEUED, created_at__lt=stale)
        | Q(status=Generation.Status.RUNNING, provider_id__isnull=True, started_at__lt=stale)
    )
    for generation_id in lost.values_list("id", flat=True)[:batch_size]:
        run_generation.delay(generation_id)
        count += 1
    due_polls = running.filter(provider_id__isnull=False, output_urls=[], next_poll_at__lt=now - timedelta(seconds=10))
    for generation_id in due_polls.values_list("id", flat=True)[:batch_size]:
        sync_generation.delay(generation_id)
        count += 1
    due_collections = running.exclude(output_urls=[]).filter(next_poll_at__lt=now)
    for generation_id in due_collections.values_list("id", flat=True)[:batch_size]:
        Generation.objects.filter(id=generation_id).update(
            next_poll_at=now + timedelta(seconds=settings.REDRIVE_AFTER_SECONDS)
        )
        collect_images.delay(generation_id)
        count += 1
    return count


def generation_repoll(*, generation_id: int) -> bool:
    """Re-drive one active job now (operators): submit, poll or store its images."""
    from generation.tasks import collect_images, run_generation, sync_generation

    generation = Generation.objects.filter(id=generation_id, status__in=Generation.ACTIVE).first()
    if generation is None:
        return False
    if not generation.provider_id:
        run_generation.delay_on_commit(generation.id)
    elif generation.output_urls:
        collect_images.delay_on_commit(generation.id)
    else:
        Generation.objects.filter(id=generation.id).update(next_poll_at=timezone.now())
        sync_generation.delay_on_commit(generation.id)
    return True


def image_set_favourite(*, image: GeneratedImage, favourite: bool) -> GeneratedImage:
    GeneratedImage.objects.filter(id=image.id).update(favourite=favourite)
    image.favourite = favourite
    return image


def images_trash(*, user: User, image_ids: list[int]) -> int:
    """Move the user's images among these ids to the trash (their files are kept, restorable until
    purged). Returns how many images moved: images only, never the rows that hang off them."""
    return GeneratedImage.objects.filter(generation__user=user, id__in=image_ids, trashed_at__isnull=True).update(
        trashed_at=timezone.now()
    )


def image_trash(*, image: GeneratedImage) -> None:
    images_trash(user=image.generation.user, image_ids=[image.id])
    image.refresh_from_db(fields=["trashed_at"])


class ImageGone(Exception):
    """The image was deleted for good (purged) before it could be restored."""


def image_restore(*, image: GeneratedImage) -> GeneratedImage:
    """Take the image out of the trash: it is back in the gallery, its job and the library as it was."""
    if not GeneratedImage.objects.filter(id=image.id).update(trashed_at=None):
        raise ImageGone("This image was deleted for good; it can no longer be restored.")
    image.trashed_at = None
    return image


def image_delete(*, image: GeneratedImage) -> None:
    """Delete the image and, once that is committed, its stored files: for good, no trash."""
    names = image.file_names()
    with transaction.atomic():
        image.delete()
        storage_delete_files(names=names)


def images_delete(*, user: User, image_ids: list[int], trashed: bool | None = None) -> int:
    """Delete the user's images among these ids, and their files, for good. `trashed=True`: only
    those (still) in the trash. Returns how many images went."""
    with transaction.atomic():
        images = GeneratedImage.objects.select_for_update().filter(generation__user=user, id__in=image_ids)
        if trashed is not None:
            images = images.filter(trashed_at__isnull=not trashed)
        images = list(images)
        GeneratedImage.objects.filter(id__in=[image.id for image in images]).delete()
        storage_delete_files(names=[name for image in images for name in image.file_names()])
    return len(images)


def images_purge_trashed(*, batch_size: int = 500) -> int:
    """Delete, with their stored files, the images trashed more than TRASH_RETENTION_DAYS ago.

    In batches, each its own transaction; safe to run again or concurrently (an image already gone
    is skipped, one restored meanwhile is kept). Returns how many went.
    """
    cutoff = timezone.now() - timedelta(days=settings.TRASH_RETENTION_DAYS)
    purged = 0
    while True:
        with transaction.atomic():
            # Locked, so a restore racing the purge either wins (the image stays, files and all)
            # or finds the image gone; never a restored image without its files.
            batch = list(
                GeneratedImage.objects.select_for_update()
                .filter(trashed_at__lt=cutoff)
                .order_by("trashed_at", "id")[:batch_size]
            )
            GeneratedImage.objects.filter(id__in=[image.id for image in batch]).delete()
            storage_delete_files(names=[name for image in batch for name in image.file_names()])
        purged += len(batch)
        if len(batch) < batch_size:
            return purged
