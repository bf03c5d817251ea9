from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.db.models import Case, Count, F, Prefetch, Q, Sum, When
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.demo import DEMO_BACKEND
from core.money import money
from core.storage import storage_url
from generation.models import GeneratedImage, Generation, GenerationLimit
from generation.providers import new_jobs_simulated
from projects.access import Can, project_ids_for, require, role_of
from projects.models import Project, Role
from training.models import TrainingRun

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

IMAGE_SORTS: dict[str, list[str | OrderBy]] = {
    "newest": ["-created_at", "-id"],
    "likeness": [F("likeness").desc(nulls_last=True), "-created_at", "-id"],
}


@dataclass(frozen=True)
class PromptTemplate:
    """A prompt starter: shown in the reader's language, sent in its English original when it is
    used unchanged. `text` has the model's trigger word as %(trigger)s."""

    key: str
    label: "StrOrPromise"
    text: str

    def shown(self, *, trigger_word: str | None) -> str:
        """The prompt in the active language, with the trigger word (or "the subject") in it."""
        return gettext(self.text) % {"trigger": trigger_word or gettext("the subject")}

    def english(self, *, trigger_word: str | None) -> str:
        return self.text % {"trigger": trigger_word or "the subject"}


# Prompt starters per kind of subject. The texts are marked, not translated, here: each is
# translated where it is shown, and sent in English.
PROMPT_TEMPLATES: dict[str, list[PromptTemplate]] = {
    Project.Category.PERSON: [
        PromptTemplate(
            "headshot",
            _("Headshot"),
            gettext_noop("a professional headshot of %(trigger)s, studio lighting, neutral grey background, 85mm"),
        ),
        PromptTemplate(
            "outdoor",
            _("Outdoor portrait"),
            gettext_noop("a candid portrait of %(trigger)s outdoors at golden hour, soft bokeh"),
        ),
        PromptTemplate(
            "linkedin",
            _("Business portrait"),
            gettext_noop("%(trigger)s in a navy blazer, modern office, natural window light"),
        ),
        PromptTemplate(
            "travel",
            _("Travel photo"),
            gettext_noop("a travel photo of %(trigger)s on a cobblestone street in Lisbon, sunny afternoon"),
        ),
        PromptTemplate(
            "black-and-white",
            _("Black and white"),
            gettext_noop("a black and white film portrait of %(trigger)s, dramatic side light"),
        ),
    ],
    Project.Category.PRODUCT: [
        PromptTemplate(
            "studio-white",
            _("Studio on white"),
            gettext_noop("a product photo of %(trigger)s on a seamless white background, soft shadow"),
        ),
        PromptTemplate(
            "lifestyle",
            _("Lifestyle"),
            gettext_noop("%(trigger)s on a wooden kitchen table, morning light, lifestyle photography"),
        ),
        PromptTemplate(
            "flat-lay",
            _("Flat lay"),
            gettext_noop("a flat lay of %(trigger)s with props on a pastel background, top-down"),
        ),
        PromptTemplate(
            "outdoor",
            _("Outdoors"),
            gettext_noop("%(trigger)s on a rock by a mountain lake, natural light, advertising photo"),
        ),
        PromptTemplate(
            "hero",
            _("Hero shot"),
            gettext_noop("a hero shot of %(trigger)s, dark background, rim light, reflections"),
        ),
    ],
}
# A suggested prompt offered in the user's language with its English original ("make more like
# this"): signed, so the form can tell it was sent unchanged.
PROMPT_SUGGESTION_SALT = "generation.prompt-suggestion"
# The signed URL a provider downloads a model's LoRA from (generation.services.lora.lora_source).
LORA_URL_SALT = "generation.lora-url"
LORA_URL_MAX_AGE = 60 * 60


# Prompts, estimates and limits
# ------------------------------------------------------------------------------


def prompt_templates(*, category: str | None) -> list[PromptTemplate]:
    """The prompt templates of a project category; both kinds for the base model."""
    if category in PROMPT_TEMPLATES:
        return PROMPT_TEMPLATES[category]
    return [template for templates in PROMPT_TEMPLATES.values() for template in templates]


def prompt_template_choices(*, category: str | None, trigger_word: str | None) -> list[dict[str, str]]:
    """The templates as the form offers them: label and prompt in the active language."""
    return [
        {"label": str(template.label), "prompt": template.shown(trigger_word=trigger_word)}
        for template in prompt_templates(category=category)
    ]


def prompt_suggestion_token(*, shown: str, english: str) -> str:
    """A token for the generation form's `suggestion` (GET or POST) with a prompt offered in the
    user's language (`shown`): sent unchanged, its English original goes instead, untranslated."""
    return signing.dumps({"shown": " ".join(shown.split()), "english": english}, salt=PROMPT_SUGGESTION_SALT)


def _shipped_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def prompt_english_original(*, prompt: str, trigger_word: str | None, suggestion: str = "") -> tuple[str, str] | None:
    """(language, English original) of a prompt we offered translated and the user sent unchanged:
    a prompt template in one of the shipped languages, or the signed suggestion; None otherwise
    (an English template is English already)."""
    typed = " ".join(prompt.split())
    if not typed:
        return None
    templates = prompt_templates(category=None)
    for language in _shipped_languages():
        with translation.override(language):
            for template in templates:
                if gettext(template.text) == template.text:
                    continue  # not translated into this language: it is the English original
                if " ".join(template.shown(trigger_word=trigger_word).split()) == typed:
                    return language, template.english(trigger_word=trigger_word)
    if suggestion:
        try:
            offered = signing.loads(suggestion, salt=PROMPT_SUGGESTION_SALT)
        except signing.BadSignature:
            return None
        if isinstance(offered, dict) and offered.get("shown") == typed and offered.get("english"):
            return "", str(offered["english"])
    return None


def generation_estimate(*, num_outputs: int, simulated: bool = False) -> Decimal:
    """What these images cost the user. Simulated (demo) images cost nothing, ever."""
    if simulated:
        return Decimal("0.000")
    return Decimal(str(num_outputs * settings.GENERATION_PRICE_PER_IMAGE)).quantize(Decimal("0.001"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Limits:
    concurrent_jobs: int
    images_per_day: int
    monthly_spend: Decimal


def limits_for(*, user: User) -> Limits:
    """The user's limits: their own overrides, else the settings'."""
    override = GenerationLimit.objects.filter(user=user).first()

    def pick(field: str, default):
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
    """Why this user cannot start this generation now, or "" if they can (in the active language)."""
    if not prompt.strip():
        return gettext("Write a prompt: what should the picture show?")
    if len(prompt) > settings.GENERATION_PROMPT_MAX_CHARS:
        return gettext("The prompt is %(length)s characters long; the limit is %(limit)s.") % {
            "length": len(prompt),
            "limit": settings.GENERATION_PROMPT_MAX_CHARS,
        }
    usage = generation_usage(user=user)
    limits = usage.limits
    if usage.running >= limits.concurrent_jobs:
        return ngettext(
            "You already have %(running)s generation running, your limit is %(limit)s. Wait for it to finish.",
            "You already have %(running)s generations running, your limit is %(limit)s. Wait for one to finish.",
            usage.running,
        ) % {"running": usage.running, "limit": limits.concurrent_jobs}
    if usage.images_today + num_outputs > limits.images_per_day:
        left = max(0, limits.images_per_day - usage.images_today)
        return ngettext(
            "%(count)s more image would pass your limit of %(limit)s a day (%(left)s left in the last 24 hours).",
            "%(count)s more images would pass your limit of %(limit)s a day (%(left)s left in the last 24 hours).",
            num_outputs,
        ) % {"count": num_outputs, "limit": limits.images_per_day, "left": left}
    estimate = generation_estimate(num_outputs=num_outputs, simulated=new_jobs_simulated(base_model=base_model))
    if estimate and usage.spent_this_month + estimate > limits.monthly_spend:
        return gettext(
            "These images (about %(estimate)s) would take you over your monthly limit of %(limit)s (%(spent)s used)."
        ) % {"estimate": money(estimate), "limit": money(limits.monthly_spend), "spent": money(usage.spent_this_month)}
    return ""


def lora_run_from_token(*, token: str) -> TrainingRun | None:
    """The trained model behind a signed LoRA download URL, while the URL is valid; else None."""
    try:
        run_id = signing.loads(token, salt=LORA_URL_SALT, max_age=LORA_URL_MAX_AGE)
    except signing.BadSignature:
        return None
    return TrainingRun.objects.filter(id=run_id, status=TrainingRun.Status.SUCCEEDED).exclude(lora_file="").first()


# Jobs and images
# ------------------------------------------------------------------------------


def jobs_scope(*, user: User, capability: Can = Can.VIEW, prefix: str = "") -> Q:
    """Which jobs (reached through `prefix`, e.g. "generation__") the user may do this to: every job
    of a project's models where their role allows it (whoever started it), and their own jobs of the
    base model, which belong to no project. A job of a project they left is no longer theirs to see."""
    return Q(**{f"{prefix}project_id__in": project_ids_for(user=user, capability=capability)}) | Q(
        **{f"{prefix}project__isnull": True, f"{prefix}user": user}
    )


def generation_require(*, user: User, generation: Generation, capability: Can) -> None:
    """403 when the user's role in the job's project lacks `capability` (404 for a non-member);
    a base-model job is its starter's alone, and the scope above already found it theirs."""
    if generation.project_id is not None:
        require(user=user, project=generation.project_id, capability=capability)


def editable_project_ids(*, user: User) -> set[int]:
    """The projects whose images the user may favourite, delete and restore: one query, for pages
    that show write controls per tile."""
    return set(project_ids_for(user=user, capability=Can.EDIT).values_list("project_id", flat=True))


def image_editable(*, user: User, image: GeneratedImage, editable: set[int]) -> bool:
    """Whether the user may change this image (`editable`: editable_project_ids)."""
    project_id = image.generation.project_id
    return project_id in editable if project_id is not None else image.generation.user_id == user.id


def generation_can_cancel(*, user: User, generation: Generation) -> bool:
    """Its starter may cancel a running job, and so may the owner of its project."""
    if generation.user_id == user.id:
        return True
    return generation.project_id is not None and role_of(user=user, project=generation.project_id) == Role.OWNER


def generation_list_for_user(*, user: User, run_id: int | None = None, project_id: int | None = None):
    """The jobs the user may see (every job of their projects' models, their own of the base
    model), newest first, with their model, project and images."""
    jobs = Generation.objects.filter(jobs_scope(user=user))
    if run_id:
        jobs = jobs.filter(training_run_id=run_id)
    if project_id:
        jobs = jobs.filter(project_id=project_id)
    return (
        jobs.select_related("training_run", "project")
        .prefetch_related(
            Prefetch("images", queryset=GeneratedImage.objects.filter(trashed_at__isnull=True).order_by("index"))
        )
        .order_by("-created_at", "-id")
    )


def generation_get_for_user(*, user: User, generation_id: int) -> Generation:
    """A job the user may see, with its images, or 404."""
    return get_object_or_404(generation_list_for_user(user=user), id=generation_id)


def image_list_for_user(
    *,
    user: User,
    run_id: int | None = None,
    project_id: int | None = None,
    favourites: bool = False,
    sort: str = "newest",
    capability: Can = Can.VIEW,
):
    """The images the user may see (or, with `capability`, change), outside the trash."""
    images = GeneratedImage.objects.filter(
        jobs_scope(user=user, capability=capability, prefix="generation__"), trashed_at__isnull=True
    )
    if run_id:
        images = images.filter(generation__training_run_id=run_id)
    if project_id:
        images = images.filter(generation__project_id=project_id)
    if favourites:
        images = images.filter(favourite=True)
    # A tile shows its job's prompt and settings, never the model's or project's row.
    return images.select_related("generation").order_by(*IMAGE_SORTS.get(sort, IMAGE_SORTS["newest"]))


def generation_stored_indexes(*, generation_id: int) -> set[int]:
    """The positions (in the provider's output list) of the job's images stored so far, trash included."""
    return set(GeneratedImage.objects.filter(generation_id=generation_id).values_list("index", flat=True))


def images_for_download(*, user: User, image_ids: list[int]) -> list[GeneratedImage]:
    """The images the user may see among these ids, with what their download names need."""
    return list(image_list_for_user(user=user).filter(id__in=image_ids).select_related("generation__training_run"))


def image_get_for_user(
    *, user: User, image_id: int, trashed: bool | None = False, capability: Can = Can.VIEW
) -> GeneratedImage:
    """An image the user may see, or 404; 403 when their role in its project lacks `capability`.
    `trashed`: False (the default) only outside the trash, True only in it, None either (its
    files, which the trash page shows); the trash is seen only by those who may edit (as photos')."""
    outside = Q(jobs_scope(user=user, prefix="generation__"), trashed_at__isnull=True)
    inside = Q(jobs_scope(user=user, capability=Can.EDIT, prefix="generation__"), trashed_at__isnull=False)
    scope = {False: outside, True: inside, None: outside | inside}[trashed]
    image = get_object_or_404(
        GeneratedImage.objects.filter(scope).select_related("generation__project", "generation__training_run"),
        id=image_id,
    )
    if capability != Can.VIEW:
        generation_require(user=user, generation=image.generation, capability=capability)
    return image


def image_get_for_viewer(*, user: User, image_id: int) -> GeneratedImage:
    """The image for a member of its project (in the trash only for who may edit there), or for an
    operator allowed to see images in the admin; else 404."""
    if user.is_staff and user.has_perm("generation.view_generatedimage"):
        return get_object_or_404(GeneratedImage, id=image_id)
    return image_get_for_user(user=user, image_id=image_id, trashed=None)


def image_trash_for_user(*, user: User):
    """The images in the trash the user may restore (those of projects where they may edit, and
    their own of the base model), most recently trashed first, with their job."""
    return (
        GeneratedImage.objects.filter(
            jobs_scope(user=user, capability=Can.EDIT, prefix="generation__"), trashed_at__isnull=False
        )
        .select_related("generation")
        .order_by("-trashed_at", "-id")
    )


def recent_images_for_project(*, project, limit: int = 8) -> list[GeneratedImage]:
    return list(
        GeneratedImage.objects.filter(generation__project=project, trashed_at__isnull=True)
        .select_related("generation")
        .order_by("-created_at", "-id")[:limit]
    )


def image_url(*, image: GeneratedImage, variant: str) -> str:
    """A URL the owner's browser can load: presigned on S3, an owner-checked view on local disk."""
    field = image.thumbnail if variant == "thumbnail" else image.file
    if settings.AWS_STORAGE_BUCKET_NAME:
        return storage_url(field.name, expire=settings.MEDIA_URL_EXPIRY_SECONDS)
    return reverse("generation:image_file", kwargs={"image_id": image.id, "variant": variant})


def model_choices_for_user(*, user: User, capability: Can = Can.GENERATE) -> list[TrainingRun]:
    """The trained models of every project where the user may generate (or, with `capability`,
    see: the gallery's filter), newest first, for the model picker."""
    return list(
        TrainingRun.objects.filter(
            project_id__in=project_ids_for(user=user, capability=capability), status=TrainingRun.Status.SUCCEEDED
        )
        .exclude(lora_file="", hf_commit="")
        .select_related("project")
        .order_by("-completed_at", "-id")
    )


def model_get_for_user(*, user: User, run_id: int) -> TrainingRun | None:
    """A trained model of a project the user is a member of (whatever their role), or None: a
    non-member's id is answered as a missing one, a member's is refused by the role later."""
    return (
        TrainingRun.objects.filter(
            id=run_id, project_id__in=project_ids_for(user=user), status=TrainingRun.Status.SUCCEEDED
        )
        .exclude(lora_file="", hf_commit="")
        .select_related("project")
        .first()
    )


def download_name(*, image: GeneratedImage) -> str:
    generation = image.generation
    subject = generation.training_run.trigger_word if generation.training_run else "flux-dev"
    simulated = "-SIMULATED" if generation.simulated else ""
    return f"{subject}-{generation.id}-{image.index + 1}{simulated}.{image.format}"


def generation_status_counts() -> dict[str, int]:
    """Jobs of every user per status (operators)."""
    rows = Generation.objects.order_by().values_list("status").annotate(count=Count("id"))
    return dict(rows)


def generations_stuck(*, since: datetime):
    """Active jobs that have not moved since `since`, oldest first (operators).

    Each is what generation_reconcile re-drives: a queued job counts from its creation, one never
    recorded at its provider from its start, a submitted one from its overdue poll (or the
    deadline for storing its images).
    """
    stuck_since = Case(
        When(status=Generation.Status.QUEUED, then=F("created_at")),
        When(provider_id__isnull=True, then=Coalesce("started_at", "created_at")),
        default=Coalesce("next_poll_at", "started_at", "created_at"),
    )
    return (
        Generation.objects.filter(status__in=Generation.ACTIVE)
        .annotate(stuck_since=stuck_since)
        .filter(stuck_since__lt=since)
        .order_by(F("stuck_since").asc(), "id")
    )


WAIT_NOTICES = {  # the number is the interpolation's "minutes"
    "queued": ngettext_lazy(
        "Our workers have not picked this job up yet; it starts or ends within %(minutes)s minute.",
        "Our workers have not picked this job up yet; it starts or ends within %(minutes)s minutes.",
        "minutes",
    ),
    "submitting": ngettext_lazy(
        "The provider has not taken this job yet; we keep trying for up to %(minutes)s minute.",
        "The provider has not taken this job yet; we keep trying for up to %(minutes)s minutes.",
        "minutes",
    ),
    "running": ngettext_lazy(
        "The provider is taking longer than usual to make these images; we stop the job if they are not ready "
        "within %(minutes)s minute.",
        "The provider is taking longer than usual to make these images; we stop the job if they are not ready "
        "within %(minutes)s minutes.",
        "minutes",
    ),
    "collecting": ngettext_lazy(
        "The images are made; fetching them is taking longer than usual (at most %(minutes)s minute more).",
        "The images are made; fetching them is taking longer than usual (at most %(minutes)s minutes more).",
        "minutes",
    ),
}


def generation_wait_notice(*, generation: Generation) -> str:
    """What the job page says when a phase lasts longer than usual, before its deadline; "" else."""
    if not generation.is_active:
        return ""
    phase = generation.phase
    if timezone.now() - generation.state_changed_at < timedelta(minutes=settings.GENERATION_STATE_USUAL_MINUTES[phase]):
        return ""
    deadline = generation.state_changed_at + timedelta(minutes=settings.GENERATION_STATE_DEADLINE_MINUTES[phase])
    minutes = max(1, round((deadline - timezone.now()).total_seconds() / 60))
    return WAIT_NOTICES[phase] % {"minutes": minutes}


def generations_ended_by_deadline(*, since: datetime):
    """Jobs that a deadline or an attempt budget ended, newest first (operators)."""
    return Generation.objects.filter(
        status=Generation.Status.FAILED,
        error_kind__in=["deadline", "provider_down", "internal"],
        completed_at__gte=since,
    ).order_by("-completed_at", "-id")
