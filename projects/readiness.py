"""The readiness report: can this set of photos train a good model, and if not, what to fix.

Computed from the photo rows alone (sizes, hashes, blur and face data recorded at processing
time), so it is cheap enough to show on every page view.
"""

from dataclasses import dataclass, field
from statistics import median

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext

from projects import faces
from projects.models import Photo, Project

OK, WARNING, BLOCKER = "ok", "warning", "blocker"
# Not checked yet: there are no ready photos to check, so neither a tick nor a cross is honest.
PENDING = "pending"
LEVELS = (OK, WARNING, BLOCKER, PENDING)


@dataclass
class Check:
    key: str
    label: str
    level: str
    message: str
    fix: str = ""
    photo_ids: list[int] = field(default_factory=list)


@dataclass
class Report:
    checks: list[Check]

    @property
    def ready(self) -> bool:
        return not any(check.level == BLOCKER for check in self.checks)

    @property
    def verdict(self) -> str:
        if not self.ready:
            return gettext("Not ready to train yet: fix the items marked below.")
        if any(check.level == WARNING for check in self.checks):
            return gettext("Ready to train, but the warnings below may lower the quality of your model.")
        return gettext("Ready to train.")

    def as_dict(self) -> dict:
        return {
            "ready": self.ready,
            "verdict": self.verdict,
            "checks": [check.__dict__ for check in self.checks],
        }


def _names(photos: list[Photo]) -> str:
    quoted = pgettext("a file name in quotes", "“%(name)s”")
    shown = ", ".join(quoted % {"name": photo.original_filename} for photo in photos[:3])
    if len(photos) <= 3:
        return shown
    more = len(photos) - 3
    return ngettext("%(names)s and %(count)d more", "%(names)s and %(count)d more", more) % {
        "names": shown,
        "count": more,
    }


def _of(photos: list[Photo], **values) -> dict:
    """The values a sentence about these photos reads: their names and how many they are."""
    return {"names": _names(photos), "count": len(photos), **values}


# The checks' names, in the active language when read (a module constant is built before any request).
LABELS = {
    "count": gettext_lazy("Photo count"),
    "processing": gettext_lazy("Processing"),
    "failed": gettext_lazy("Failed photos"),
    "descriptions": gettext_lazy("Descriptions"),
    "resolution": gettext_lazy("Resolution"),
    "near_duplicates": gettext_lazy("Variety"),
    "sharpness": gettext_lazy("Sharpness"),
    "faces": gettext_lazy("One face per photo"),
    "same_person": gettext_lazy("Same person"),
}


def _check(key: str, level: str, message: str, fix: str = "", photos: list[Photo] | None = None) -> Check:
    return Check(key, str(LABELS[key]), level, message, fix, [p.id for p in photos or []])


def report_for(*, project: Project, photos: list[Photo]) -> Report:
    ready = [photo for photo in photos if photo.status == Photo.Status.READY]
    processing = [photo for photo in photos if photo.status == Photo.Status.PROCESSING]
    failed = [photo for photo in photos if photo.status == Photo.Status.FAILED]
    checks = [_count_check(ready, processing)]
    if processing:
        checks.append(
            _check(
                "processing",
                BLOCKER,
                ngettext(
                    "%(count)d photo is still being processed.",
                    "%(count)d photos are still being processed.",
                    len(processing),
                )
                % _of(processing),
                gettext("Wait a moment; this page updates when they are done."),
                processing,
            )
        )
    if failed:
        checks.append(
            _check(
                "failed",
                WARNING,
                ngettext("%(names)s could not be processed.", "%(names)s could not be processed.", len(failed))
                % _of(failed),
                ngettext("Delete it and upload another photo.", "Delete them and upload other photos.", len(failed)),
                failed,
            )
        )
    # (key, check): with no ready photo yet, each of these is pending, never ticked.
    photo_checks = [
        ("descriptions", _description_check),
        ("resolution", _resolution_check),
        ("near_duplicates", _duplicate_check),
        ("sharpness", _blur_check),
    ]
    if project.category == Project.Category.PERSON:
        photo_checks += [("faces", _face_check), ("same_person", _same_person_check)]
    checks += [
        check(ready) if ready else _check(key, PENDING, gettext("Checked once photos are uploaded and processed."))
        for key, check in photo_checks
    ]
    return Report(checks=checks)


def _count_check(ready: list[Photo], processing: list[Photo]) -> Check:
    minimum, maximum = settings.PROJECT_PHOTOS_MIN, settings.PROJECT_PHOTOS_MAX
    count = len(ready)
    values = {"count": count, "maximum": maximum, "minimum": minimum}
    if count >= minimum:
        return _check(
            "count", OK, ngettext("%(count)d / %(maximum)d photo.", "%(count)d / %(maximum)d photos.", maximum) % values
        )
    missing = minimum - count - len(processing)
    fix = (
        ngettext("Upload %(missing)d more.", "Upload %(missing)d more.", missing) % {"missing": missing}
        if missing > 0
        else gettext("Wait for the photos being processed.")
    )
    message = ngettext(
        "%(count)d / %(maximum)d photos; training needs %(minimum)d.",
        "%(count)d / %(maximum)d photos; training needs %(minimum)d.",
        minimum,
    )
    return _check("count", BLOCKER, message % values, fix)


def _description_check(ready: list[Photo]) -> Check:
    missing = [photo for photo in ready if not photo.description.strip()]
    if not missing:
        return _check("descriptions", OK, gettext("Every photo is described."))
    return _check(
        "descriptions",
        BLOCKER,
        ngettext("%(count)d photo has no description.", "%(count)d photos have no description.", len(missing))
        % _of(missing),
        gettext("Describe what each photo shows (pose, setting, light); the model learns from these words."),
        missing,
    )


def _resolution_check(ready: list[Photo]) -> Check:
    too_small = [photo for photo in ready if photo.short_side < settings.PHOTO_MIN_SIDE]
    small = [photo for photo in ready if settings.PHOTO_MIN_SIDE <= photo.short_side < settings.PHOTO_RECOMMENDED_SIDE]
    if too_small:
        return _check(
            "resolution",
            BLOCKER,
            ngettext(
                "%(names)s is under %(side)d px on the short side.",
                "%(names)s are under %(side)d px on the short side.",
                len(too_small),
            )
            % _of(too_small, side=settings.PHOTO_MIN_SIDE),
            ngettext("Replace it with a larger photo.", "Replace them with larger photos.", len(too_small)),
            too_small,
        )
    if small:
        return _check(
            "resolution",
            WARNING,
            ngettext(
                "%(names)s is under %(side)d px on the short side.",
                "%(names)s are under %(side)d px on the short side.",
                len(small),
            )
            % _of(small, side=settings.PHOTO_RECOMMENDED_SIDE),
            gettext("Larger originals give sharper results; replace them if you can."),
            small,
        )
    return _check(
        "resolution",
        OK,
        gettext("Every photo is at least %(side)d px.") % {"side": settings.PHOTO_RECOMMENDED_SIDE},
    )


def _duplicate_check(ready: list[Photo]) -> Check:
    # Only a twin of a photo still here counts: one whose original is in the trash is not a repeat.
    ready_ids = {photo.id for photo in ready}
    twins = [photo for photo in ready if photo.near_duplicate_of_id in ready_ids]
    if not twins:
        return _check("near_duplicates", OK, gettext("No near-duplicate photos."))
    return _check(
        "near_duplicates",
        WARNING,
        ngettext(
            "%(names)s looks almost the same as another photo.",
            "%(names)s look almost the same as another photo.",
            len(twins),
        )
        % _of(twins),
        gettext("Swap them for photos with a different angle, setting or expression."),
        twins,
    )


def _blur_check(ready: list[Photo]) -> Check:
    blurry = [p for p in ready if p.blur_score is not None and p.blur_score < settings.PHOTO_BLUR_THRESHOLD]
    if not blurry:
        return _check("sharpness", OK, gettext("No blurry photos found."))
    return _check(
        "sharpness",
        WARNING,
        ngettext("%(names)s looks blurry.", "%(names)s look blurry.", len(blurry)) % _of(blurry),
        gettext("Replace them with sharp photos; the model copies blur."),
        blurry,
    )


def _face_check(ready: list[Photo]) -> Check:
    analysed = [photo for photo in ready if photo.face_count is not None]
    no_face = [photo for photo in analysed if photo.face_count == 0]
    crowded = [photo for photo in analysed if (photo.face_count or 0) > 1]
    if no_face:
        return _check(
            "faces",
            BLOCKER,
            gettext("No face found in %(names)s.") % _of(no_face),
            gettext("Use photos where the face is visible and reasonably large."),
            no_face,
        )
    if crowded:
        return _check(
            "faces",
            WARNING,
            ngettext("%(names)s shows more than one face.", "%(names)s show more than one face.", len(crowded))
            % _of(crowded),
            gettext("Crop them to the person, or the model may mix people up."),
            crowded,
        )
    return _check("faces", OK, gettext("Each photo shows one face."))


def _same_person_check(ready: list[Photo]) -> Check:
    descriptors: list[tuple[Photo, list[float]]] = [
        (photo, photo.face_descriptor) for photo in ready if photo.face_count is not None and photo.face_descriptor
    ]
    if len(descriptors) < 2:
        return _check("same_person", OK, gettext("Not enough faces to compare yet."))
    strangers = []
    for photo, descriptor in descriptors:
        distances = [
            faces.descriptor_distance(descriptor, other_descriptor)
            for other, other_descriptor in descriptors
            if other is not photo
        ]
        # The typical distance to the rest of the set: robust to one odd photo among the others.
        if median(distances) > settings.FACE_MATCH_DISTANCE:
            strangers.append(photo)
    if not strangers:
        return _check("same_person", OK, gettext("All faces look like the same person."))
    return _check(
        "same_person",
        BLOCKER,
        ngettext("%(names)s seems to show someone else.", "%(names)s seem to show someone else.", len(strangers))
        % _of(strangers),
        gettext("Use photos of one person only; mixing people blurs the likeness."),
        strangers,
    )
