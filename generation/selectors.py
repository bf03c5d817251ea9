from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Case, Count, F, Prefetch, When
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from generation.models import GeneratedImage, Generation
from training.models import TrainingRun

IMAGE_SORTS = {
    "newest": ["-created_at", "-id"],
    "likeness": [F("likeness").desc(nulls_last=True), "-created_at", "-id"],
}


def generation_list_for_user(*, user: User, run_id: int | None = None, project_id: int | None = None):
    """The user's jobs, newest first, with their model, project and images."""
    jobs = Generation.objects.filter(user=user)
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
    """The user's job with its images, or 404."""
    return get_object_or_404(generation_list_for_user(user=user), id=generation_id)


def image_list_for_user(
    *,
    user: User,
    run_id: int | None = None,
    project_id: int | None = None,
    favourites: bool = False,
    sort: str = "newest",
):
    images = GeneratedImage.objects.filter(generation__user=user, trashed_at__isnull=True)
    if run_id:
        images = images.filter(generation__training_run_id=run_id)
    if project_id:
        images = images.filter(generation__project_id=project_id)
    if favourites:
        images = images.filter(favourite=True)
    # A tile shows its job's prompt and settings, never the model's or project's row.
    return images.select_related("generation").order_by(*IMAGE_SORTS.get(sort, IMAGE_SORTS["newest"]))


def images_for_download(*, user: User, image_ids: list[int]) -> list[GeneratedImage]:
    """The user's images among these ids, with what their download names need."""
    return list(image_list_for_user(user=user).filter(id__in=image_ids).select_related("generation__training_run"))


def image_get_for_user(*, user: User, image_id: int, trashed: bool | None = False) -> GeneratedImage:
    """The user's image, or 404. `trashed`: False (the default) only outside the trash, True only
    in it, None either (its files, which the trash page shows)."""
    filters = {"generation__user": user, "id": image_id}
    if trashed is not None:
        filters["trashed_at__isnull"] = not trashed
    return get_object_or_404(
        GeneratedImage.objects.select_related("generation__project", "generation__training_run"), **filters
    )


def image_get_for_viewer(*, user: User, image_id: int) -> GeneratedImage:
    """The image (in the trash or not) for its owner, or for an operator allowed to see images in
    the admin; else 404."""
    if user.is_staff and user.has_perm("generation.view_generatedimage"):
        return get_object_or_404(GeneratedImage, id=image_id)
    return image_get_for_user(user=user, image_id=image_id, trashed=None)


def image_trash_for_user(*, user: User):
    """The user's images in the trash, most recently trashed first, with their job."""
    return (
        GeneratedImage.objects.filter(generation__user=user, trashed_at__isnull=False)
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
        return default_storage.url(field.name, expire=settings.MEDIA_URL_EXPIRY_SECONDS)
    return reverse("generation:image_file", kwargs={"image_id": image.id, "variant": variant})


def model_choices_for_user(*, user: User) -> list[TrainingRun]:
    """The user's trained models, newest first, for the model picker."""
    return list(
        TrainingRun.objects.filter(project__owner=user, status=TrainingRun.Status.SUCCEEDED)
        .exclude(lora_file="", hf_commit="")
        .select_related("project")
        .order_by("-completed_at", "-id")
    )


def download_name(*, image: GeneratedImage) -> str:
    generation = image.generation
    subject = generation.training_run.trigger_word if generation.training_run_id else "flux-dev"
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


WAIT_NOTICES = {
    "queued": "Our workers have not picked this job up yet; it starts or ends within {left}.",
    "submitting": "The provider has not taken this job yet; we keep trying for up to {left}.",
    "running": "The provider is taking longer than usual to make these images; we stop the job if they are not "
    "ready within {left}.",
    "collecting": "The images are made; fetching them is taking longer than usual (at most {left} more).",
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
    return WAIT_NOTICES[phase].format(left=f"{minutes} minute{'s' if minutes != 1 else ''}")


def generations_ended_by_deadline(*, since: datetime):
    """Jobs that a deadline or an attempt budget ended, newest first (operators)."""
    return Generation.objects.filter(
        status=Generation.Status.FAILED,
        error_kind__in=["deadline", "provider_down", "internal"],
        completed_at__gte=since,
    ).order_by("-completed_at", "-id")
