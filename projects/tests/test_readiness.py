import pytest
from PIL import Image, ImageFilter

from projects import readiness
from projects.models import Photo
from projects.tests.factories import PHOTOS, ProjectFactory

pytestmark = pytest.mark.django_db


def photo(project, n, **fields):
    defaults = {
        "original_filename": f"p{n}.jpg",
        "format": "JPEG",
        "bytes": 1,
        "sha256": f"{n:064d}",
        "width": 1600,
        "height": 1200,
        "status": Photo.Status.READY,
        "description": "a photo",
        "phash": f"{n:016x}",
        "blur_score": 500.0,
    }
    return Photo.objects.create(project=project, **{**defaults, **fields})


def report(project):
    return readiness.report_for(project=project, photos=list(project.photos.all()))


def levels(result):
    return {check.key: check.level for check in result.checks}


def test_a_complete_product_set_is_ready(settings):
    project = ProjectFactory()
    for n in range(settings.PROJECT_PHOTOS_MIN):
        photo(project, n)
    result = report(project)
    assert result.ready
    assert result.verdict == "Ready to train."
    assert set(levels(result).values()) == {"ok"}


def test_too_few_photos_blocks_with_how_many_to_add(settings):
    project = ProjectFactory()
    for n in range(12):
        photo(project, n)
    count = next(check for check in report(project).checks if check.key == "count")
    assert (count.level, count.message, count.fix) == (
        "blocker",
        "12 / 15 photos; training needs 15.",
        "Upload 3 more.",
    )


def test_small_blurry_and_undescribed_photos(settings):
    settings.PROJECT_PHOTOS_MIN = 3
    project = ProjectFactory()
    photo(project, 1, width=900, height=700)
    photo(project, 2, blur_score=10.0)
    photo(project, 3, description="  ")
    result = report(project)
    assert levels(result)["resolution"] == "warning"
    assert levels(result)["sharpness"] == "warning"
    assert levels(result)["descriptions"] == "blocker"
    assert not result.ready


def test_photos_still_processing_block_training(settings):
    settings.PROJECT_PHOTOS_MIN = 1
    project = ProjectFactory()
    photo(project, 1)
    photo(project, 2, status=Photo.Status.PROCESSING)
    assert levels(report(project))["processing"] == "blocker"


def descriptor_of(name, transform=None):
    from projects import faces

    image = Image.open(PHOTOS / name).convert("RGB")
    if transform:
        image = transform(image)
    result = faces.describe_faces(image)
    return result.count, result.descriptor


def test_person_sets_need_one_face_per_photo_and_the_same_person(settings):
    settings.PROJECT_PHOTOS_MIN = 3
    project = ProjectFactory(category="person")
    variants = [None, lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), lambda im: im.resize((700, 700))]
    for n, transform in enumerate(variants):
        count, descriptor = descriptor_of("astronaut.jpg", transform)
        photo(project, n, face_count=count, face_descriptor=descriptor)
    result = report(project)
    assert levels(result)["faces"] == "ok"
    assert levels(result)["same_person"] == "ok"

    count, descriptor = descriptor_of("grace_hopper.jpg")
    stranger = photo(project, 10, face_count=count, face_descriptor=descriptor, original_filename="grace.jpg")
    same_person = next(check for check in report(project).checks if check.key == "same_person")
    assert same_person.level == "blocker"
    assert same_person.photo_ids == [stranger.id]
    assert "“grace.jpg” seems to show someone else" in same_person.message


def test_a_photo_without_a_face_blocks_a_person_set(settings):
    settings.PROJECT_PHOTOS_MIN = 1
    project = ProjectFactory(category="person")
    count, descriptor = descriptor_of("coffee.jpg")
    assert count == 0
    photo(project, 1, face_count=count, face_descriptor=descriptor)
    assert levels(report(project))["faces"] == "blocker"


def test_blurred_faces_still_count_as_faces_but_warn_about_sharpness():
    count, _ = descriptor_of("grace_hopper.jpg", lambda im: im.filter(ImageFilter.GaussianBlur(1)))
    assert count == 1


@pytest.mark.parametrize("category", ["product", "person"])
def test_with_no_photos_no_photo_check_is_ticked(category):
    result = readiness.report_for(project=ProjectFactory(category=category), photos=[])
    photo_checks = [check for check in result.checks if check.key != "count"]
    assert photo_checks
    assert {check.level for check in photo_checks} == {readiness.PENDING}
    assert not any("Every photo" in check.message or "No blurry" in check.message for check in result.checks)
    assert not result.ready


@pytest.mark.parametrize(
    ("fields", "key", "one", "two"),
    [
        ({"blur_score": 1.0}, "sharpness", "“p0.jpg” looks blurry.", "“p0.jpg”, “p1.jpg” look blurry."),
        ({"description": ""}, "descriptions", "1 photo has no description.", "2 photos have no description."),
        ({"width": 900, "height": 700}, "resolution", "“p0.jpg” is under", "“p0.jpg”, “p1.jpg” are under"),
    ],
)
def test_messages_agree_with_the_number_of_photos(settings, fields, key, one, two):
    settings.PROJECT_PHOTOS_MIN = 1
    project = ProjectFactory()
    photo(project, 0, **fields)
    assert next(check for check in report(project).checks if check.key == key).message.startswith(one)
    photo(project, 1, **fields)
    assert next(check for check in report(project).checks if check.key == key).message.startswith(two)
