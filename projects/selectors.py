import re
import secrets
import unicodedata

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext

from accounts.models import User
from core.storage import storage_url
from projects import readiness
from projects.access import Can, project_ids_for, role_allows
from projects.models import FEED_KINDS, Membership, Photo, Project, ProjectEvent, Role

VARIANTS = {"original": "original", "training": "training_image", "thumbnail": "thumbnail", "preview": "preview"}


def role_subquery(*, user: User, project_ref: str = "pk") -> Subquery:
    """The user's role in the project `project_ref` points at, for `.annotate(role=...)`."""
    return Subquery(Membership.objects.filter(project=OuterRef(project_ref), user=user).values("role")[:1])


def role_label(role: str | None) -> str:
    """The role as the reader's language names it ("Editor"), or "" for none."""
    return str(Role(role).label) if role in Role.values else ""


def role_refusal(role: str | None) -> PermissionDenied:
    """The 403 for a member whose role does not allow what they asked, saying so."""
    return PermissionDenied(
        gettext("Your role in this project (%(role)s) does not allow this.") % {"role": role_label(role)}
    )


def _projects_of(user: User, capability: Can = Can.VIEW):
    """The projects the user is a member of (with that capability), each with `role` (the user's) and
    `photo_count`."""
    return Project.objects.filter(id__in=project_ids_for(user=user, capability=capability)).annotate(
        photo_count=Count("photos", filter=~Q(photos__status=Photo.Status.FAILED) & Q(photos__trashed_at__isnull=True)),
        role=role_subquery(user=user),
    )


def project_list_for_user(*, user: User, capability: Can = Can.VIEW):
    """Every project the user is a member of (shared ones too), with their `role`, the owner, photo
    counts and the ready photos (the first is the cover) prefetched."""
    return (
        _projects_of(user, capability)
        .select_related("owner")
        .prefetch_related(
            Prefetch(
                "photos",
                queryset=Photo.objects.filter(status=Photo.Status.READY, trashed_at__isnull=True),
                to_attr="ready_photos",
            )
        )
        .order_by("-created_at", "-id")
    )


def project_choices_for_user(*, user: User, capability: Can = Can.VIEW):
    """Id and name of each project the user is a member of (with that capability), newest first, for a
    picker: nothing else is read."""
    return (
        Project.objects.filter(id__in=project_ids_for(user=user, capability=capability))
        .order_by("-created_at", "-id")
        .only("id", "name")
    )


def project_get_for_user(*, user: User, project_id: int, capability: Can = Can.VIEW) -> Project:
    """A project the user is a member of (with `role` and `member_count`, for the page's Members
    link, in the same query), or 404: a non-member's id is indistinguishable from a missing one.
    403 when their role does not allow `capability`."""
    members = (
        Membership.objects.filter(project_id=OuterRef("pk")).order_by().values("project_id").annotate(n=Count("id"))
    )
    project = get_object_or_404(_projects_of(user).annotate(member_count=Subquery(members.values("n"))), id=project_id)
    if not role_allows(project.role, capability):
        raise role_refusal(project.role)
    return project


def photo_list_for_project(*, project: Project):
    """The project's photos, without those in the trash."""
    return (
        Photo.objects.filter(project=project, trashed_at__isnull=True)
        .select_related("near_duplicate_of")
        .order_by("created_at", "id")
    )


def _photos_of(user: User, trashed: bool | None):
    """Photos of the user's projects: outside the trash those of every project they are a member of,
    in the trash only those of projects they may edit (who cannot restore a photo does not see the
    trash). Each photo has `role`, the user's in its project."""
    outside = Q(trashed_at__isnull=True, project_id__in=project_ids_for(user=user))
    inside = Q(trashed_at__isnull=False, project_id__in=project_ids_for(user=user, capability=Can.EDIT))
    scope = {False: outside, True: inside, None: outside | inside}[trashed]
    return Photo.objects.filter(scope).annotate(role=role_subquery(user=user, project_ref="project_id"))


def photo_get_for_user(
    *,
    user: User,
    photo_id: int,
    project_id: int | None = None,
    trashed: bool | None = False,
    capability: Can = Can.VIEW,
) -> Photo:
    """A photo of a project the user is a member of, or 404; 403 when their role there does not
    allow `capability`. `trashed`: False (the default) only outside the trash, True only in it,
    None either (its files, which the trash page shows); the trash is seen only by those who may edit."""
    filters: dict = {"id": photo_id}
    if project_id is not None:
        filters["project_id"] = project_id
    photo = get_object_or_404(_photos_of(user, trashed).select_related("project"), **filters)
    if not role_allows(photo.role, capability):
        raise role_refusal(photo.role)
    photo.project.role = photo.role
    return photo


def photo_trash_for_user(*, user: User):
    """The trashed photos of the projects where the user may edit (restore or delete them), most
    recently trashed first, with their project."""
    return _photos_of(user, True).select_related("project").order_by("-trashed_at", "-id")


def project_readiness(*, project: Project, photos: list[Photo] | None = None) -> readiness.Report:
    photos = photos if photos is not None else list(photo_list_for_project(project=project))
    return readiness.report_for(project=project, photos=photos)


def photo_url(*, photo: Photo, variant: str) -> str:
    """A URL the owner's browser can load: presigned on S3, an owner-checked view on local disk."""
    field = getattr(photo, VARIANTS[variant])
    if not field:
        return ""
    if settings.AWS_STORAGE_BUCKET_NAME:
        return storage_url(field.name, expire=settings.MEDIA_URL_EXPIRY_SECONDS)
    return reverse("projects:photo_file", kwargs={"photo_id": photo.id, "variant": variant})


def project_cover(*, project: Project) -> Photo | None:
    ready = getattr(project, "ready_photos", None)
    return ready[0] if ready else None


# Trigger words
# ------------------------------------------------------------------------------


def _trigger_word_base(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    letters = re.sub(r"[^A-Za-z]", "", ascii_name).upper()[:8]
    return letters if len(letters) >= 3 else "SUBJ"


def project_new_trigger_word(*, owner: User, name: str) -> str:
    """A rare, single-token word for the subject, unique among the owner's projects."""
    base = _trigger_word_base(name)
    taken = set(Project.objects.filter(owner=owner).values_list("trigger_word", flat=True))
    while True:
        # A made-up suffix keeps the token rare, so the model does not confuse it with a real word.
        candidate = f"{base}{''.join(secrets.choice('QXZJKV') for _ in range(3))}"
        if candidate not in taken:
            return candidate


# Activity
# ------------------------------------------------------------------------------


def project_activity(*, project: Project, before_id: int | None = None, limit: int = 30) -> list[ProjectEvent]:
    """The project's feed events (FEED_KINDS), newest first, with their actors; `before_id`: only
    those older than that event (the "older" page). The caller has checked the reader is a member."""
    events = ProjectEvent.objects.filter(project=project, kind__in=FEED_KINDS).select_related("actor")
    if before_id is not None:
        events = events.filter(id__lt=before_id)
    return list(events.order_by("-id")[:limit])
