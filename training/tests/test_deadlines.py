"""A status that lasts past its deadline ends the run, once, with what went wrong."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from training import selectors, services
from training.models import TrainingRun
from training.tests.factories import ready_project

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("status", "minutes", "words"),
    [
        (TrainingRun.Status.STARTING, 61, "did not start this training within 60 minutes"),
        (TrainingRun.Status.TRAINING, 6 * 60 + 1, "ran longer than 360 minutes"),
    ],
)
def test_a_run_past_its_status_deadline_is_failed_with_what_went_wrong_and_emailed(
    settings, django_capture_on_commit_callbacks, status, minutes, words
):
    settings.TRAINING_BACKEND = "training.backends.demo.DemoTrainingBackend"
    settings.DEMO_TRAINING_SECONDS = 3600
    with django_capture_on_commit_callbacks(execute=True):
        run = services.training_start(project=ready_project())
    TrainingRun.objects.filter(id=run.id).update(
        status=status, state_changed_at=timezone.now() - timedelta(minutes=minutes)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.training_reconcile()
        services.training_reconcile()
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert run.error_kind == "deadline"
    assert words in run.error
    assert len(mail.outbox) == 1
    run.project.refresh_from_db()
    assert selectors.training_refusal(project=run.project, steps=run.steps) == ""


def test_a_run_within_its_deadline_is_left_running(settings, django_capture_on_commit_callbacks):
    settings.TRAINING_BACKEND = "training.backends.demo.DemoTrainingBackend"
    settings.DEMO_TRAINING_SECONDS = 3600
    with django_capture_on_commit_callbacks(execute=True):
        run = services.training_start(project=ready_project())
    TrainingRun.objects.filter(id=run.id).update(state_changed_at=timezone.now() - timedelta(minutes=59))
    services.training_reconcile()
    run.refresh_from_db()
    # Still running: the simulated GPU may have finished booting meanwhile on a busy machine (the
    # demo reports "processing" after two seconds), but the run is neither failed nor told to anyone.
    assert run.status in (TrainingRun.Status.STARTING, TrainingRun.Status.TRAINING)
    assert (run.error_kind, run.error) == ("", "")
    assert mail.outbox == []
