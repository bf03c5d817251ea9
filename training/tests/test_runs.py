"""Demo mode end to end: a ready project trains on the simulator, publishes a marked LoRA, emails once."""

import pytest
from django.core import mail

from projects.models import Project
from training import services
from training.models import TrainingRun
from training.tests.factories import poll_now, ready_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_a_ready_project_trains_publishes_and_emails_once(django_capture_on_commit_callbacks):
    project = ready_project()
    with django_capture_on_commit_callbacks(execute=True):
        run = services.training_start(project=project)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.STARTING
    assert run.dataset.name.endswith("dataset.zip")
    with django_capture_on_commit_callbacks(execute=True):
        poll_now(run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert run.progress == 100
    assert run.lora_file.name.endswith("lora.safetensors")
    assert run.loss_points
    project.refresh_from_db()
    assert project.status == Project.Status.TRAINED
    assert len(mail.outbox) == 1
    assert "is ready (demo)" in mail.outbox[0].subject
    # Everything again: nothing new happens.
    with django_capture_on_commit_callbacks(execute=True):
        poll_now(run.id)
        services.training_publish(run_id=run.id)
        services.training_notify(run_id=run.id)
    assert len(mail.outbox) == 1


def test_a_second_run_is_refused_while_one_is_active():
    project = ready_project()
    services.training_start(project=project)
    with pytest.raises(services.TrainingNotAllowed, match="already training"):
        services.training_start(project=project)


def test_a_canceled_run_never_publishes_or_emails(django_capture_on_commit_callbacks):
    project = ready_project()
    with django_capture_on_commit_callbacks(execute=True):
        run = services.training_start(project=project)
    with django_capture_on_commit_callbacks(execute=True):
        services.training_cancel(run=run)
        poll_now(run.id)
        services.training_publish(run_id=run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELED
    assert not run.lora_file
    assert mail.outbox == []
    project.refresh_from_db()
    assert project.status == Project.Status.READY
