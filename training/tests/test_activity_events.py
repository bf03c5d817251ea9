"""The training events of the project activity: started by whom, progress only when it moves, ended once."""

import pytest

from accounts.tests.factories import UserFactory
from projects.models import ProjectEvent
from training import services
from training.backends.base import ProviderTraining
from training.models import TrainingRun
from training.services.states import run_end
from training.tests.factories import poll_now, ready_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def events(run, kind):
    return list(ProjectEvent.objects.filter(project_id=run.project_id, kind=kind).order_by("id"))


def test_starting_records_who_started_which_run():
    project = ready_project()
    run = services.training_start(project=project, actor=project.owner)
    [event] = events(run, ProjectEvent.Kind.TRAINING_STARTED)
    assert (event.actor, event.subject) == (project.owner, {"run": run.id})


def test_a_refused_start_records_nothing():
    project = ready_project()
    services.training_start(project=project, actor=project.owner)
    with pytest.raises(services.TrainingNotAllowed):
        services.training_start(project=project, actor=project.owner)
    assert ProjectEvent.objects.filter(kind=ProjectEvent.Kind.TRAINING_STARTED).count() == 1


def test_a_run_that_ends_twice_records_one_end_with_its_status():
    run = services.training_start(project=ready_project())
    assert run_end(run_id=run.id, sources=TrainingRun.ACTIVE, status=TrainingRun.Status.FAILED, error="x")
    assert not run_end(run_id=run.id, sources=TrainingRun.ACTIVE, status=TrainingRun.Status.CANCELED, error="y")
    [event] = events(run, ProjectEvent.Kind.TRAINING_ENDED)
    assert (event.actor, event.subject) == (None, {"run": run.id, "status": "failed"})


def test_a_cancel_records_who_canceled():
    project = ready_project()
    editor = UserFactory()
    run = services.training_start(project=project)
    services.training_cancel(run=run, actor=editor)
    services.training_cancel(run=run, actor=editor)
    [event] = events(run, ProjectEvent.Kind.TRAINING_ENDED)
    assert (event.actor, event.subject["status"]) == (editor, "canceled")


def test_progress_is_an_event_only_when_it_moves(run_on_commit):
    run = services.training_start(project=ready_project())
    TrainingRun.objects.filter(id=run.id).update(status=TrainingRun.Status.TRAINING, provider_training_id="t1")
    ProjectEvent.objects.filter(kind=ProjectEvent.Kind.TRAINING_PROGRESS).delete()
    report = ProviderTraining(id="t1", status="processing", logs="flux_train 100/1000 [00:10<01:30]")
    services.training_apply_update(run_id=run.id, training=report)
    services.training_apply_update(run_id=run.id, training=report)  # the webhook after the poll
    later = ProviderTraining(id="t1", status="processing", logs="flux_train 500/1000 [00:50<00:50]")
    services.training_apply_update(run_id=run.id, training=later)
    progress = [event.subject for event in events(run, ProjectEvent.Kind.TRAINING_PROGRESS)]
    assert progress == [
        {"run": run.id, "status": "training", "progress": 10},
        {"run": run.id, "status": "training", "progress": 50},
    ]


def test_a_status_move_is_a_progress_event_and_the_demo_run_ends_once(run_on_commit):
    project = ready_project()
    with run_on_commit():
        run = services.training_start(project=project, actor=project.owner)
    run.refresh_from_db()
    moves = [event.subject["status"] for event in events(run, ProjectEvent.Kind.TRAINING_PROGRESS)]
    assert moves[:2] == ["submitting", "starting"]

    with run_on_commit():
        poll_now(run.id)
        poll_now(run.id)
    [ended] = events(run, ProjectEvent.Kind.TRAINING_ENDED)
    assert ended.subject == {"run": run.id, "status": "succeeded"}
