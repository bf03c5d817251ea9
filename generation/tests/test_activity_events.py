"""The generation events of the project activity: started by whom, each image once, ended once,
images deleted and restored; a base-model job belongs to no project and records nothing."""

import pytest

from accounts.tests.factories import UserFactory
from generation import services
from generation.models import GeneratedImage, Generation
from generation.services.jobs import generation_end
from generation.tests.factories import trained_model
from projects.models import ProjectEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def events(project_id, kind):
    return list(ProjectEvent.objects.filter(project_id=project_id, kind=kind).order_by("id"))


def generated(run_on_commit, run=None, num_outputs=2):
    run = run or trained_model()
    with run_on_commit():
        generation = services.generation_create(
            user=run.project.owner, training_run=run, prompt="on a marble counter", num_outputs=num_outputs
        )
    generation.refresh_from_db()
    return generation


def test_a_job_records_its_start_each_image_once_and_its_end_once(run_on_commit):
    generation = generated(run_on_commit)
    with run_on_commit():
        # Every step again: nothing moves, nothing is recorded twice.
        services.generation_run(generation_id=generation.id)
        services.generation_sync(generation_id=generation.id)
        services.generation_collect(generation_id=generation.id)
        services.generation_reconcile()
    project_id = generation.project_id
    [started] = events(project_id, ProjectEvent.Kind.GENERATION_STARTED)
    assert (started.actor, started.subject) == (generation.user, {"generation": generation.id})
    images = [event.subject["image"] for event in events(project_id, ProjectEvent.Kind.IMAGE_CREATED)]
    assert sorted(images) == sorted(generation.images.values_list("id", flat=True))
    [ended] = events(project_id, ProjectEvent.Kind.GENERATION_ENDED)
    assert (ended.actor, ended.subject) == (None, {"generation": generation.id, "status": "succeeded"})
    assert events(project_id, ProjectEvent.Kind.GENERATION_PROGRESS)


def test_ending_twice_records_one_end():
    run = trained_model()
    generation = services.generation_create(user=run.project.owner, training_run=run, prompt="x", num_outputs=1)
    canceler = UserFactory()
    services.generation_cancel(generation=generation, actor=canceler)
    assert not generation_end(generation_id=generation.id, status=Generation.Status.FAILED, kind="unknown")
    [ended] = events(generation.project_id, ProjectEvent.Kind.GENERATION_ENDED)
    assert (ended.actor, ended.subject["status"]) == (canceler, "canceled")


def test_a_base_model_job_records_no_project_event(run_on_commit, owner):
    before = ProjectEvent.objects.count()
    with run_on_commit():
        services.generation_create(user=owner, training_run=None, prompt="a lighthouse at dusk", num_outputs=1)
    assert ProjectEvent.objects.count() == before


def test_trashing_restoring_and_deleting_images_record_once_per_change(run_on_commit):
    generation = generated(run_on_commit)
    first, second = generation.images.order_by("index")
    user = generation.user
    assert services.images_trash(user=user, image_ids=[first.id, second.id]) == 2
    assert services.images_trash(user=user, image_ids=[first.id, second.id]) == 0
    [trashed] = events(generation.project_id, ProjectEvent.Kind.IMAGE_DELETED)
    assert (trashed.actor, trashed.subject) == (user, {"images": sorted([first.id, second.id])})
    services.image_restore(image=first, actor=user)
    services.image_restore(image=first, actor=user)
    restored = [
        e.subject for e in events(generation.project_id, ProjectEvent.Kind.IMAGE_CREATED) if e.subject.get("restored")
    ]
    assert restored == [{"generation": generation.id, "image": first.id, "restored": True}]
    first_id, second_id = first.id, second.id
    services.image_delete(image=first, actor=user)
    services.images_delete(user=user, image_ids=[second.id], trashed=True)
    deleted = [event.subject for event in events(generation.project_id, ProjectEvent.Kind.IMAGE_DELETED)][1:]
    assert deleted == [
        {"images": [first_id], "permanent": True, "trashed": False},
        {"images": [second_id], "permanent": True, "trashed": True},
    ]


def test_a_restore_of_a_purged_image_is_refused_and_records_nothing(run_on_commit):
    generation = generated(run_on_commit, num_outputs=1)
    image = generation.images.get()
    services.image_trash(image=image)

    GeneratedImage.objects.filter(id=image.id).delete()
    before = ProjectEvent.objects.count()
    with pytest.raises(services.ImageGone):
        services.image_restore(image=image)
    assert ProjectEvent.objects.count() == before


def test_the_feed_links_a_finished_job(client, run_on_commit):
    generation = generated(run_on_commit)
    client.force_login(generation.user)
    page = client.get(f"/projects/{generation.project_id}/activity/").content.decode()
    assert f'href="/generation/jobs/{generation.id}/"' in page
    assert f"finished generation job #{generation.id}." in page
