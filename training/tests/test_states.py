"""run_end: the one place a run ends, once, with its project freed and its owner told."""

import pytest
from django.core import mail

from projects.models import Project
from training import services
from training.models import TrainingRun
from training.services.states import run_advance, run_end
from training.tests.factories import ready_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_a_run_ends_once_however_many_ends_race(run_on_commit):
    run = services.training_start(project=ready_project())
    with run_on_commit():
        first = run_end(run_id=run.id, sources=TrainingRun.ACTIVE, status=TrainingRun.Status.FAILED, error="one")
        second = run_end(run_id=run.id, sources=TrainingRun.ACTIVE, status=TrainingRun.Status.CANCELED, error="two")
    assert (first, second) == (True, False)
    run.refresh_from_db()
    assert (run.status, run.error) == (TrainingRun.Status.FAILED, "one")
    assert len(mail.outbox) == 1
    run.project.refresh_from_db()
    assert run.project.status != Project.Status.TRAINING


def test_only_run_end_ends_a_run_and_it_only_ends_one():
    run = services.training_start(project=ready_project())
    with pytest.raises(ValueError, match="ends through run_end"):
        run_advance(run_id=run.id, sources=TrainingRun.ACTIVE, to=TrainingRun.Status.SUCCEEDED)
    with pytest.raises(ValueError, match="does not end a run"):
        run_end(run_id=run.id, sources=TrainingRun.ACTIVE, status=TrainingRun.Status.TRAINING)
