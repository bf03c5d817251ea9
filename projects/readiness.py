"""The readiness report: can this set of photos train a good model, and if not, what to fix.

Computed from the photo rows alone (sizes, hashes, blur and face data recorded at processing
time), so it is cheap enough to show on every page view.
"""

from dataclasses import dataclass, field
from statistics import median

from django.conf import settings

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
            return "Not ready to train yet: fix the items marked below."
        if any(check.level == WARNING for check in self.checks):
            return "Ready to train, but the warnings below may lower the quality of your model."
        return "Ready to train."

    def as_dict(self) -> dict:
        return {
            "ready": self.ready,
            "verdict": self.verdict,
            "checks": [check.__dict__ for check in self.checks],
        }


def _names(photos: list[Photo]) -> str:
    shown = ", ".join(f"“{photo.original_filename}”" for photo in photos[:3])
    return shown + (f" and {len(photos) - 3} more" if len(photos) > 3 else "")


def _agree(photos: list, singular: str, plural: str) -> str:
    """The verb form for a list of photos: one photo "looks", two "look"."""
    return singular if len(photos) == 1 else plural


def _photos(count: int) -> str:
    return f"{count} photo{'' if count == 1 else 's'}"


def report_for(*, project: Project, photos: list[Photo]) -> Report:
    ready = [photo for photo in photos if photo.status == Photo.Status.READY]
    processing = [photo for photo in photos if photo.status == Photo.Status.PROCESSING]
    failed = [photo for photo in photos if photo.status == Photo.Status.FAILED]
    checks = [_count_check(ready, processing)]
    if processing:
        checks.append(
            Check(
                "processing",
                "Processing",
                BLOCKER,
                f"{_photos(len(processing))} {_agree(processing, 'is', 'are')} still being processed.",
                "Wait a moment; this page updates when they are done.",
                [p.id for p in processing],
            )
        )
    if failed:
        checks.append(
            Check(
                "failed",
                "Failed photos",
                WARNING,
                f"{_names(failed)} could not be processed.",
                "Delete them and upload other photos.",
                [p.id for p in failed],
            )
        )
    # (key, label, check): with no ready photo yet, each of these is pending, never ticked.
    photo_checks = [
        ("descriptions", "Descriptions", _description_check),
        ("resolution", "Resolution", _resolution_check),
        ("near_duplicates", "Variety", _duplicate_check),
        ("sharpness", "Sharpness", _blur_check),
    ]
    if project.category == Project.Category.PERSON:
        photo_checks += [
            ("faces", "One face per photo", _face_check),
            ("same_person", "Same person", _same_person_check),
        ]
    checks += [
        check(ready) if ready else Check(key, label, PENDING, "Checked once photos are uploaded and processed.")
        for key, label, check in photo_checks
    ]
    return Report(checks=checks)


def _count_check(ready: list[Photo], processing: list[Photo]) -> Check:
    minimum, maximum = settings.PROJECT_PHOTOS_MIN, settings.PROJECT_PHOTOS_MAX
    count = len(ready)
    if count >= minimum:
        return Check("count", "Photo count", OK, f"{count} / {maximum} photos.")
    missing = minimum - count - len(processing)
    fix = f"Upload {missing} more." if missing > 0 else "Wait for the photos being processed."
    return Check("count", "Photo count", BLOCKER, f"{count} / {maximum} photos; training needs {minimum}.", fix)


def _description_check(ready: list[Photo]) -> Check:
    missing = [photo for photo in ready if not photo.description.strip()]
    if not missing:
        return Check("descriptions", "Descriptions", OK, "Every photo is described.")
    return Check(
        "descriptions",
        "Descriptions",
        BLOCKER,
        f"{_photos(len(missing))} {_agree(missing, 'has', 'have')} no description.",
        "Describe what each photo shows (pose, setting, light); the model learns from these words.",
        [p.id for p in missing],
    )


def _resolution_check(ready: list[Photo]) -> Check:
    too_small = [photo for photo in ready if photo.short_side < settings.PHOTO_MIN_SIDE]
    small = [photo for photo in ready if settings.PHOTO_MIN_SIDE <= photo.short_side < settings.PHOTO_RECOMMENDED_SIDE]
    if too_small:
        return Check(
            "resolution",
            "Resolution",
            BLOCKER,
            f"{_names(too_small)} {_agree(too_small, 'is', 'are')} under {settings.PHOTO_MIN_SIDE} px "
            "on the short side.",
            "Replace them with larger photos.",
            [p.id for p in too_small],
        )
    if small:
        return Check(
            "resolution",
            "Resolution",
            WARNING,
            f"{_names(small)} {_agree(small, 'is', 'are')} under {settings.PHOTO_RECOMMENDED_SIDE} px "
            "on the short side.",
            "Larger originals give sharper results; replace them if you can.",
            [p.id for p in small],
        )
    return Check("resolution", "Resolution", OK, f"Every photo is at least {settings.PHOTO_RECOMMENDED_SIDE} px.")


def _duplicate_check(ready: list[Photo]) -> Check:
    # Only a twin of a photo still here counts: one whose original is in the trash is not a repeat.
    ready_ids = {photo.id for photo in ready}
    twins = [photo for photo in ready if photo.near_duplicate_of_id in ready_ids]
    if not twins:
        return Check("near_duplicates", "Variety", OK, "No near-duplicate photos.")
    return Check(
        "near_duplicates",
        "Variety",
        WARNING,
        f"{_names(twins)} {_agree(twins, 'looks', 'look')} almost the same as another photo.",
        "Swap them for photos with a different angle, setting or expression.",
        [p.id for p in twins],
    )


def _blur_check(ready: list[Photo]) -> Check:
    blurry = [p for p in ready if p.blur_score is not None and p.blur_score < settings.PHOTO_BLUR_THRESHOLD]
    if not blurry:
        return Check("sharpness", "Sharpness", OK, "No blurry photos found.")
    return Check(
        "sharpness",
        "Sharpness",
        WARNING,
        f"{_names(blurry)} {_agree(blurry, 'looks', 'look')} blurry.",
        "Replace them with sharp photos; the model copies blur.",
        [p.id for p in blurry],
    )


def _face_check(ready: list[Photo]) -> Check:
    analysed = [photo for photo in ready if photo.face_count is not None]
    no_face = [photo for photo in analysed if photo.face_count == 0]
    crowded = [photo for photo in analysed if (photo.face_count or 0) > 1]
    if no_face:
        return Check(
            "faces",
            "One face per photo",
            BLOCKER,
            f"No face found in {_names(no_face)}.",
            "Use photos where the face is visible and reasonably large.",
            [p.id for p in no_face],
        )
    if crowded:
        return Check(
            "faces",
            "One face per photo",
            WARNING,
            f"{_names(crowded)} {_agree(crowded, 'shows', 'show')} more than one face.",
            "Crop them to the person, or the model may mix people up.",
            [p.id for p in crowded],
        )
    return Check("faces", "One face per photo", OK, "Each photo shows one face.")


def _same_person_check(ready: list[Photo]) -> Check:
    descriptors: list[tuple[Photo, list[float]]] = [
        (photo, photo.face_descriptor) for photo in ready if photo.face_count is not None and photo.face_descriptor
    ]
    if len(descriptors) < 2:
        return Check("same_person", "Same person", OK, "Not enough faces to compare yet.")
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
        return Check("same_person", "Same person", OK, "All faces look like the same person.")
    return Check(
        "same_person",
        "Same person",
        BLOCKER,
        f"{_names(strangers)} {_agree(strangers, 'seems', 'seem')} to show someone else.",
        "Use photos of one person only; mixing people blurs the likeness.",
        [p.id for p in strangers],
    )
