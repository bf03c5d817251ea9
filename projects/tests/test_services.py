import logging
import threading
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory
from projects import services, signals
from projects.models import Photo, Project
from projects.services import projects as project_services_module
from projects.tests.conftest import referenced_files, stored_files
from projects.tests.factories import PHOTOS, ProjectFactory, encode, photo_upload, scene, upload

pytestmark = pytest.mark.django_db


def add(project, *files):
    return services.photo_upload(project=project, files=list(files))


@pytest.fixture
def announced():
    """The (signal, photo id) pairs projects.signals sent, in order."""
    sent = []
    receivers = {
        name: lambda sender, *, photo_id, name=name, **kwargs: sent.append((name, photo_id))
        for name in ("photo_ready", "photo_described")
    }
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver)
    yield sent
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


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


def test_processing_a_deleted_photo_does_nothing(project, run_on_commit, announced):
    [photo] = add(project, photo_upload(1)).accepted
    Photo.objects.filter(id=photo.id).delete()
    with run_on_commit():
        services.photo_process(photo_id=photo.id)
    assert stored_files() == {photo.original.name}  # no derivative rendered for the missing row
    assert not Photo.objects.exists()
    assert announced == []  # and nothing told the library about it


def test_a_processed_photo_is_announced_once_it_is_committed(project, django_capture_on_commit_callbacks, announced):
    [photo] = add(project, photo_upload(1)).accepted
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.photo_process(photo_id=photo.id)
    assert announced == []  # not before the commit
    for callback in callbacks:
        callback()
    assert announced == [("photo_ready", photo.id)]
    services.photo_process(photo_id=photo.id)  # a second run changes nothing and announces nothing
    assert announced == [("photo_ready", photo.id)]


def test_a_new_description_is_announced(project, run_on_commit, announced):
    [photo] = add(project, photo_upload(1)).accepted
    with run_on_commit():
        services.photo_update_description(photo=photo, description="a blue mug")
    assert announced == [("photo_described", photo.id)]


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


# Recovery: what killed workers and lost messages leave behind is picked up.
# ------------------------------------------------------------------------------


def test_an_upload_during_a_broker_outage_is_kept_and_processed_later(project, broker_down, run_on_commit, caplog):
    with caplog.at_level(logging.WARNING, logger="core.tasks"), run_on_commit():
        result = services.photo_upload(project=project, files=[photo_upload(1)])
    [photo] = result.accepted
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PROCESSING
    assert "left to the reconcile tasks" in caplog.text

    broker_down()  # the broker is back
    services.photo_reconcile()
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PROCESSING  # not stalled long enough yet

    Photo.objects.filter(id=photo.id).update(created_at=timezone.now() - timedelta(minutes=5))
    services.photo_reconcile()
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY


def test_a_worker_dying_before_the_project_status_is_updated_leaves_the_photo_to_redo(
    project, settings, monkeypatch, run_on_commit
):
    settings.PROJECT_PHOTOS_MIN = 1
    [photo] = services.photo_upload(project=project, files=[photo_upload(3)]).accepted  # not processed yet
    services.photo_update_description(photo=photo, description="a blue mug")

    def worker_killed(**kwargs):
        raise SystemExit("SIGKILL")

    # The status is refreshed as the photos change (projects.services.projects._photos_changing).
    monkeypatch.setattr(project_services_module, "project_refresh_status", worker_killed)
    with pytest.raises(SystemExit):
        services.photo_process(photo_id=photo.id)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PROCESSING  # not recorded as ready without its project

    monkeypatch.undo()
    Photo.objects.filter(id=photo.id).update(created_at=timezone.now() - timedelta(minutes=5))
    with run_on_commit():
        services.photo_reconcile()
    project.refresh_from_db()
    assert project.status == project.Status.READY


# Concurrency: two uploads racing for the last places never make a project exceed its photo limit.
# ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_never_exceed_the_limit(settings):
    settings.PROJECT_PHOTOS_MAX = 4
    project = ProjectFactory()
    batches = [[photo_upload(seed) for seed in range(start, start + 3)] for start in (0, 10, 20)]
    barrier = threading.Barrier(len(batches))
    errors = []

    def upload_batch(files):
        try:
            barrier.wait()
            services.photo_upload(project=project, files=files)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload_batch, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Photo.objects.filter(project=project).count() == 4
