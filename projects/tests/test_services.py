import pytest
from django.core.files.storage import default_storage

from accounts.tests.factories import UserFactory
from projects import services
from projects.models import Photo, Project
from projects.tests.conftest import referenced_files, stored_files
from projects.tests.factories import PHOTOS, ProjectFactory, encode, photo_upload, scene, upload

pytestmark = pytest.mark.django_db


def add(project, *files):
    return services.photo_upload(project=project, files=list(files))


def test_create_generates_a_single_token_trigger_word_unique_per_user(owner):
    first = services.project_create(owner=owner, name="Anna Müller", category="person")
    second = services.project_create(owner=owner, name="Anna Müller", category="person")
    assert first.trigger_word.startswith("ANNAMULL")
    assert " " not in first.trigger_word
    assert first.trigger_word != second.trigger_word


def test_a_taken_trigger_word_is_refused_case_insensitively(owner):
    services.project_create(owner=owner, name="Mug", category="product", trigger_word="MUGQX")
    with pytest.raises(services.ProjectError, match="already use"):
        services.project_create(owner=owner, name="Mug 2", category="product", trigger_word="mugqx")
    # Another user may use it.
    services.project_create(owner=UserFactory(), name="Mug", category="product", trigger_word="MUGQX")


def test_the_photo_limit_holds(project, settings, run_on_commit):
    settings.PROJECT_PHOTOS_MAX = 3
    with run_on_commit():
        result = add(project, *[photo_upload(seed) for seed in range(5)])
    assert len(result.accepted) == 3
    assert [error for _, error in result.rejected] == [
        "This project already has 3 photos; delete one to add another."
    ] * 2
    assert stored_files() == referenced_files()


def test_failed_photos_do_not_count_toward_the_limit(project, settings):
    settings.PROJECT_PHOTOS_MAX = 1
    add(project, photo_upload(1))
    Photo.objects.update(status=Photo.Status.FAILED)
    assert len(add(project, photo_upload(2)).accepted) == 1


def test_exact_duplicates_are_refused(project, run_on_commit):
    content = encode(scene(1), quality=90)
    with run_on_commit():
        result = add(project, upload(content, "a.jpg"), upload(content, "b.jpg"))
    assert [p.original_filename for p in result.accepted] == ["a.jpg"]
    assert result.rejected == [("b.jpg", "The same file is already in this project (“a.jpg”).")]


def test_near_duplicates_are_flagged(project, run_on_commit):
    with run_on_commit():
        add(project, upload(encode(scene(1), quality=95), "a.jpg"))
    with run_on_commit():
        add(project, upload(encode(scene(1).resize((1100, 916)), quality=70), "a-again.jpg"), photo_upload(2))
    flagged = Photo.objects.get(original_filename="a-again.jpg")
    assert flagged.near_duplicate_of.original_filename == "a.jpg"
    assert Photo.objects.get(original_filename="photo-2.jpg").near_duplicate_of is None


def test_processing_twice_has_one_effect(project):
    [photo] = add(project, photo_upload(1)).accepted  # on-commit callbacks not run: still processing
    services.photo_process(photo_id=photo.id)
    photo.refresh_from_db()
    first = (photo.training_image.name, photo.thumbnail.name, photo.preview.name)
    services.photo_process(photo_id=photo.id)
    photo.refresh_from_db()
    assert (photo.training_image.name, photo.thumbnail.name, photo.preview.name) == first
    assert stored_files() == referenced_files()


def test_a_rerun_after_a_crash_replaces_leftovers_instead_of_adding_twins(project):
    [photo] = add(project, photo_upload(1)).accepted
    leftover = f"{photo.original.name.rsplit('/', 1)[0]}/training.jpg"
    default_storage.save(leftover, upload(b"half-written"))
    services.photo_process(photo_id=photo.id)
    photo.refresh_from_db()
    assert photo.training_image.name == leftover
    assert stored_files() == referenced_files()


def test_processing_a_deleted_photo_does_nothing(project):
    [photo] = add(project, photo_upload(1)).accepted
    Photo.objects.filter(id=photo.id).delete()
    services.photo_process(photo_id=photo.id)


def test_deleting_a_project_deletes_its_files(project, run_on_commit):
    with run_on_commit():
        add(project, photo_upload(1), photo_upload(2))
    assert len(stored_files()) == 8
    with run_on_commit():
        services.project_delete(project=project)
    assert stored_files() == set()
    assert not Photo.objects.exists()


def test_deleting_a_photo_deletes_its_files(project, run_on_commit):
    with run_on_commit():
        [keep, gone] = add(project, photo_upload(1), photo_upload(2)).accepted
    with run_on_commit():
        services.photo_delete(photo=gone)
    assert stored_files() == referenced_files()
    assert len(stored_files()) == 4


def test_project_becomes_ready_when_photos_are_complete_and_described(project, settings, run_on_commit):
    settings.PROJECT_PHOTOS_MIN = settings.PROJECT_PHOTOS_MAX = 2
    with run_on_commit():
        photos = add(project, photo_upload(1, size=(1200, 1100)), photo_upload(2, size=(1200, 1100))).accepted
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT
    for photo in photos:
        services.photo_update_description(photo=photo, description=" a mug on a table ")
    project.refresh_from_db()
    assert project.status == Project.Status.READY
    services.photo_update_description(photo=photos[0], description="")
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT


def test_switching_to_person_analyses_faces(project, run_on_commit):
    with run_on_commit():
        [photo] = add(project, upload((PHOTOS / "grace_hopper.jpg").read_bytes(), "grace.jpg")).accepted
    photo.refresh_from_db()
    assert photo.face_count is None  # product projects skip face detection
    with run_on_commit():
        services.project_update(project=project, category="person")
    photo.refresh_from_db()
    assert photo.face_count == 1
    assert len(photo.face_descriptor) == 128


def test_person_projects_record_faces(person_project, run_on_commit, settings):
    settings.PHOTO_MIN_SIDE = 256
    with run_on_commit():
        result = add(
            person_project,
            upload((PHOTOS / "astronaut.jpg").read_bytes(), "astronaut.jpg"),
            upload((PHOTOS / "coffee.jpg").read_bytes(), "coffee.jpg"),
        )
    faces = {p.original_filename: p.face_count for p in Photo.objects.filter(id__in=[p.id for p in result.accepted])}
    assert faces == {"astronaut.jpg": 1, "coffee.jpg": 0}


def test_uploads_to_another_project_are_independent(owner, run_on_commit):
    content = encode(scene(1), quality=90)
    first, second = ProjectFactory(owner=owner), ProjectFactory(owner=owner)
    assert add(first, upload(content)).accepted
    assert add(second, upload(content)).accepted
