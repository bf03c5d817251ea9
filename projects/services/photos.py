"""Photos of a project: upload, processing, descriptions, faces, trash and the reconcile."""

import logging
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext

from accounts.models import User
from core.storage import storage_delete_files
from projects import faces, imaging, signals
from projects.events import event_record
from projects.models import Photo, Project, ProjectEvent, photo_key_prefix
from projects.services.projects import ProjectError, _photos_changing
from projects.tasks import analyse_faces, process_photo

logger = logging.getLogger(__name__)


# Photos
# ------------------------------------------------------------------------------


@dataclass
class UploadResult:
    accepted: list[Photo] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)


def _display_name(uploaded) -> str:
    # Only for showing back to the user: never used in a storage key.
    name = (getattr(uploaded, "name", "") or "photo").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:255] or "photo"


def _active_photos(project_id: int):
    """The photos that count towards the project's limit: failed ones and those in the trash do not."""
    return Photo.objects.filter(project_id=project_id, trashed_at__isnull=True).exclude(status=Photo.Status.FAILED)


def photo_upload(*, project: Project, files: list, actor: User | None = None) -> UploadResult:
    """Store each acceptable file as a new photo and queue its processing.

    Each file succeeds or fails on its own. The photo limit holds under concurrent uploads: the
    count is re-checked under a lock on the project row before each photo is recorded. `actor`:
    who uploads (the activity feed names them).
    """
    result = UploadResult()
    limit = settings.PROJECT_PHOTOS_MAX
    if len(files) > settings.PHOTO_UPLOAD_MAX_FILES:
        for uploaded in files[settings.PHOTO_UPLOAD_MAX_FILES :]:
            result.rejected.append(
                (
                    _display_name(uploaded),
                    ngettext(
                        "Upload at most %(count)d file at a time.",
                        "Upload at most %(count)d files at a time.",
                        settings.PHOTO_UPLOAD_MAX_FILES,
                    )
                    % {"count": settings.PHOTO_UPLOAD_MAX_FILES},
                )
            )
        files = files[: settings.PHOTO_UPLOAD_MAX_FILES]
    for uploaded in files:
        name = _display_name(uploaded)
        try:
            if _active_photos(project.id).count() >= limit:
                raise imaging.PhotoRejected(_project_full(limit))
            info = imaging.inspect_upload(
                uploaded,
                max_bytes=settings.PHOTO_MAX_BYTES,
                max_pixels=settings.PHOTO_MAX_PIXELS,
                min_side=settings.PHOTO_MIN_SIDE,
            )
            _reject_exact_duplicate(project_id=project.id, sha256=info.sha256)
            result.accepted.append(_photo_record(project=project, uploaded=uploaded, name=name, info=info, actor=actor))
        except imaging.PhotoRejected as rejection:
            result.rejected.append((name, str(rejection)))
    return result


def _reject_exact_duplicate(*, project_id: int, sha256: str) -> None:
    twin = Photo.objects.filter(project_id=project_id, sha256=sha256).first()
    if twin is not None and twin.trashed_at is not None:
        raise imaging.PhotoRejected(
            gettext("The same file is in your trash (“%(name)s”): restore it from Trash instead.")
            % {"name": twin.original_filename}
        )
    if twin is not None:
        raise imaging.PhotoRejected(
            gettext("The same file is already in this project (“%(name)s”).") % {"name": twin.original_filename}
        )


def _project_full(limit: int) -> str:
    return ngettext(
        "This project already has %(count)d photo; delete it to add another.",
        "This project already has %(count)d photos; delete one to add another.",
        limit,
    ) % {"count": limit}


def _photo_record(
    *, project: Project, uploaded, name: str, info: imaging.UploadInfo, actor: User | None = None
) -> Photo:
    photo = Photo(
        project=project,
        original_filename=name,
        format=info.format,
        bytes=info.bytes,
        sha256=info.sha256,
        width=info.width,
        height=info.height,
    )
    uploaded.seek(0)
    # The upload goes to storage first, outside any transaction (it may be a slow S3 PUT).
    photo.original.save("original", uploaded, save=False)
    try:
        with transaction.atomic():
            Project.objects.select_for_update().filter(id=project.id).first()
            if _active_photos(project.id).count() >= settings.PROJECT_PHOTOS_MAX:
                raise imaging.PhotoRejected(_project_full(settings.PROJECT_PHOTOS_MAX))
            _reject_exact_duplicate(project_id=project.id, sha256=info.sha256)
            photo.save()
            event_record(project_id=project.id, kind=ProjectEvent.Kind.PHOTO_UPLOADED, actor=actor, photo=photo.id)
            process_photo.delay_on_commit(photo.id)
    except IntegrityError as exc:
        default_storage.delete(photo.original.name)
        raise imaging.PhotoRejected(gettext("The same file is already in this project.")) from exc
    except BaseException:
        default_storage.delete(photo.original.name)
        raise
    return photo


def _save_derivative(photo: Photo, suffix: str, content: bytes) -> str:
    name = f"{photo_key_prefix(photo)}/{suffix}"
    # A crashed earlier attempt may have left this object; replace it rather than add a twin.
    default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def photo_process(*, photo_id: int) -> None:
    """Render the derivatives and analyse a newly uploaded photo. Safe to run twice."""
    photo = Photo.objects.select_related("project").filter(id=photo_id).first()
    if photo is None or photo.status != Photo.Status.PROCESSING:
        return
    # A storage outage raises here and the task is retried; only decoding failures mark the photo.
    with default_storage.open(photo.original.name, "rb") as original:
        try:
            derivatives = imaging.render_derivatives(original)
        except Exception as exc:  # noqa: BLE001 - an untrusted file can fail to decode in many ways
            logger.warning("photo %s failed to process: %r", photo_id, exc)
            with _photos_changing(photo.project_id):
                failed = Photo.objects.filter(id=photo_id, status=Photo.Status.PROCESSING).update(
                    # Stored in English (a worker has no user's language); pages translate it when shown.
                    status=Photo.Status.FAILED,
                    error=gettext_noop("The photo could not be decoded. Delete it and upload it again."),
                )
                if failed:
                    event_record(
                        project_id=photo.project_id,
                        kind=ProjectEvent.Kind.PHOTO_PROCESSED,
                        photo=photo_id,
                        status=Photo.Status.FAILED,
                    )
            return
    names = {
        "training_image": _save_derivative(photo, "training.jpg", derivatives.training_jpeg),
        "thumbnail": _save_derivative(photo, "thumbnail.webp", derivatives.thumbnail_webp),
        "preview": _save_derivative(photo, "preview.webp", derivatives.preview_webp),
    }
    face_report = (
        faces.describe_faces(derivatives.analysis_image) if photo.project.category == Project.Category.PERSON else None
    )
    with _photos_changing(photo.project_id):
        claimed = Photo.objects.filter(id=photo_id, status=Photo.Status.PROCESSING).update(
            **names,
            status=Photo.Status.READY,
            phash=derivatives.phash,
            blur_score=derivatives.blur_score,
            face_count=face_report.count if face_report else None,
            face_descriptor=face_report.descriptor if face_report else None,
            near_duplicate_of=_find_near_duplicate(photo=photo, phash=derivatives.phash),
            processed_at=timezone.now(),
        )
        if claimed:
            event_record(
                project_id=photo.project_id,
                kind=ProjectEvent.Kind.PHOTO_PROCESSED,
                photo=photo_id,
                status=Photo.Status.READY,
            )
            _announce(signals.photo_ready, photo_id)
    if not claimed:
        # Another run finished first (or the photo was deleted): keep only what the row names.
        kept = set(
            Photo.objects.filter(id=photo_id).values_list("training_image", "thumbnail", "preview").first() or ()
        )
        storage_delete_files(names=[name for name in names.values() if name not in kept])


def _announce(signal: Signal, photo_id: int) -> None:
    """Tell the apps above (the library indexes every ready photo, again when its description
    changes) once the change has committed."""
    transaction.on_commit(lambda: signal.send(sender=Photo, photo_id=photo_id))


def _find_near_duplicate(*, photo: Photo, phash: str) -> Photo | None:
    others = Photo.objects.filter(
        project_id=photo.project_id, status=Photo.Status.READY, trashed_at__isnull=True
    ).exclude(id=photo.id)
    for other in others.exclude(phash="").order_by("created_at"):
        if imaging.phash_distance(phash, other.phash) <= settings.PHOTO_NEAR_DUPLICATE_DISTANCE:
            return other
    return None


def _enqueue_analysis(photo_id: int) -> None:
    analyse_faces.delay_on_commit(photo_id)


def photo_analyse_faces(*, photo_id: int) -> None:
    """(Re)compute faces after a project becomes a person project."""
    photo = Photo.objects.select_related("project").filter(id=photo_id, status=Photo.Status.READY).first()
    if photo is None:
        return
    changes: dict[str, Any]
    if photo.project.category != Project.Category.PERSON:
        changes = {"face_count": None, "face_descriptor": None}
    elif photo.face_count is None:
        with default_storage.open(photo.training_image.name, "rb") as training:
            report = faces.describe_faces(imaging.analysis_image(training))
        changes = {"face_count": report.count, "face_descriptor": report.descriptor}
    else:
        changes = {}
    with _photos_changing(photo.project_id):
        if changes:
            Photo.objects.filter(id=photo_id).update(**changes)


def photo_set_ai_caption(*, photo_id: int, caption: str) -> None:
    """Offer a model's caption as the photo's description (the user's own one is left alone)."""
    limit = Photo._meta.get_field("description").max_length
    Photo.objects.filter(id=photo_id).update(ai_caption=caption[:limit])


def photo_update_description(*, photo: Photo, description: str, actor: User | None = None) -> Photo:
    """Set the photo's description; the activity feed names `actor` when it changed."""
    photo.description = description.strip()
    photo.full_clean(validate_unique=False, exclude=["original"])
    with _photos_changing(photo.project_id):
        changed = (
            Photo.objects.filter(id=photo.id)
            .exclude(description=photo.description)
            .update(description=photo.description)
        )
        if changed:
            event_record(
                project_id=photo.project_id, kind=ProjectEvent.Kind.PHOTO_DESCRIBED, actor=actor, photo=photo.id
            )
        _announce(signals.photo_described, photo.id)
    return photo


def photo_trash(*, photo: Photo, actor: User | None = None) -> None:
    """Move the photo to the trash: gone from the project, its readiness and the library, its files
    kept so it can be restored until it is purged. Trashing it again changes nothing."""
    with _photos_changing(photo.project_id):
        if Photo.objects.filter(id=photo.id, trashed_at__isnull=True).update(trashed_at=timezone.now()):
            event_record(project_id=photo.project_id, kind=ProjectEvent.Kind.PHOTO_DELETED, actor=actor, photo=photo.id)
    photo.refresh_from_db(fields=["trashed_at"])


def photo_restore(*, photo: Photo, actor: User | None = None) -> Photo:
    """Take the photo out of the trash, unless the project already has all the photos it may hold."""
    with _photos_changing(photo.project_id):
        row = Photo.objects.filter(id=photo.id).values("trashed_at").first()
        if row is None:  # purged (or deleted for good) since the page was shown
            raise ProjectError(
                gettext("“%(name)s” was deleted for good; it can no longer be restored.")
                % {"name": photo.original_filename}
            )
        if row["trashed_at"] is None:
            return photo  # already restored (a second click)
        if photo.status != Photo.Status.FAILED and _active_photos(photo.project_id).count() >= (
            settings.PROJECT_PHOTOS_MAX
        ):
            raise ProjectError(
                ngettext(
                    "“%(name)s” cannot be restored: its project already has %(count)d photo. Delete it first.",
                    "“%(name)s” cannot be restored: its project already has %(count)d photos. "
                    "Delete one of them first.",
                    settings.PROJECT_PHOTOS_MAX,
                )
                % {"name": photo.original_filename, "count": settings.PROJECT_PHOTOS_MAX}
            )
        # Its library item kept its analysis and embedding: it shows again as it was.
        if Photo.objects.filter(id=photo.id, trashed_at__isnull=False).update(trashed_at=None):
            event_record(
                project_id=photo.project_id, kind=ProjectEvent.Kind.PHOTO_RESTORED, actor=actor, photo=photo.id
            )
    photo.refresh_from_db(fields=["trashed_at"])
    return photo


def photo_delete(*, photo: Photo, actor: User | None = None) -> None:
    """Delete the photo and, once that is committed, its stored files: for good, no trash."""
    photo.refresh_from_db()  # the derivatives may have been recorded since this instance was read
    names = photo.file_names()
    project_id, photo_id, was_trashed = photo.project_id, photo.id, photo.trashed_at is not None
    with _photos_changing(project_id):
        deleted, _ = photo.delete()
        if deleted:
            event_record(
                project_id=project_id,
                kind=ProjectEvent.Kind.PHOTO_DELETED,
                actor=actor,
                photo=photo_id,
                permanent=True,
                trashed=was_trashed,
            )
        storage_delete_files(names=names)


def photos_purge_trashed(*, batch_size: int = 200) -> int:
    """Delete, with their stored files, the photos trashed more than TRASH_RETENTION_DAYS ago.

    In batches; safe to run again or concurrently: a photo already gone is skipped, one restored
    meanwhile is kept (both take the project's lock). Returns how many went.
    """
    cutoff = timezone.now() - timedelta(days=settings.TRASH_RETENTION_DAYS)
    purged = 0
    while True:
        batch = list(
            Photo.objects.filter(trashed_at__lt=cutoff)
            .order_by("trashed_at", "id")
            .values_list("id", "project_id")[:batch_size]
        )
        for photo_id, project_id in batch:
            with _photos_changing(project_id):
                photo = Photo.objects.filter(id=photo_id, trashed_at__lt=cutoff).first()
                if photo is not None:
                    names = photo.file_names()
                    photo.delete()
                    storage_delete_files(names=names)
                    purged += 1
        if len(batch) < batch_size:
            return purged


def photo_reconcile(*, batch_size: int = 200) -> int:
    """Re-queue photos whose processing message was lost (a killed worker, a restarted broker)."""
    stale = timezone.now() - timedelta(seconds=settings.REDRIVE_AFTER_SECONDS)
    ids = list(
        Photo.objects.filter(status=Photo.Status.PROCESSING, created_at__lt=stale)
        .order_by("id")
        .values_list("id", flat=True)[:batch_size]
    )
    for photo_id in ids:
        process_photo.delay(photo_id)
    return len(ids)
