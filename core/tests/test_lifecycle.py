"""core.lifecycle.transition: conditional, forward only, and the one way a row changes status."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.lifecycle import transition
from generation.models import Generation
from projects.tests.factories import ProjectFactory
from training.models import TrainingRun

pytestmark = pytest.mark.django_db


def a_run(**fields) -> TrainingRun:
    defaults = {
        "steps": 600,
        "lora_rank": 16,
        "learning_rate": 4e-4,
        "resolution": "768,1024",
        "trigger_word": "MUGQX",
        "backend": "demo",
        "estimated_cost": 0,
        "estimated_minutes": 6,
    }
    return TrainingRun.objects.create(project=ProjectFactory(), **{**defaults, **fields})


def test_ranks_follow_the_active_statuses_then_every_terminal_one():
    assert [TrainingRun.rank(status) for status in TrainingRun.ACTIVE] == [0, 1, 2, 3, 4]
    assert {TrainingRun.rank(status) for status in TrainingRun.TERMINAL} == {5}
    assert (Generation.rank("queued"), Generation.rank("running"), Generation.rank("canceled")) == (0, 1, 2)
    with pytest.raises(ValueError, match="not a status"):
        TrainingRun.rank("collecting")


def test_a_move_starts_the_new_status_deadline_and_budget():
    past = timezone.now() - timedelta(hours=1)
    run = a_run(status="starting", state_changed_at=past, attempts=3, lease_holder="attempt-1")
    runs = TrainingRun.objects.filter(id=run.id)
    assert transition(runs, sources=["starting"], to="training", progress=10) is True
    run.refresh_from_db()
    assert (run.status, run.attempts, run.progress) == ("training", 0, 10)
    assert run.state_changed_at > past
    assert run.lease_holder == "attempt-1"  # an active move keeps the step's lease


def test_only_a_row_in_a_source_status_moves_and_the_loser_knows():
    run = a_run(status="training")
    runs = TrainingRun.objects.filter(id=run.id)
    assert transition(runs, sources=["starting"], to="publishing") is False
    run.refresh_from_db()
    assert run.status == "training"


def test_rows_only_move_forward_and_an_ended_row_never_moves_again():
    run = a_run(status="training")
    runs = TrainingRun.objects.filter(id=run.id)
    assert transition(runs, sources=["training"], to="starting") is False  # backwards
    assert transition(runs, sources=["training"], to="training") is False  # not forwards either
    assert transition(runs, sources=TrainingRun.ACTIVE, to="failed", lease_holder="x") is True
    assert transition(runs, sources=[*TrainingRun.ACTIVE, *TrainingRun.TERMINAL], to="succeeded") is False
    run.refresh_from_db()
    assert run.status == "failed"


def test_an_end_frees_the_lease_and_given_fields_win_over_the_defaults():
    run = a_run(status="publishing", attempts=2, lease_holder="attempt-1", lease_until=timezone.now())
    runs = TrainingRun.objects.filter(id=run.id)
    assert transition(runs, sources=["publishing"], to="succeeded", attempts=7) is True
    run.refresh_from_db()
    assert (run.status, run.attempts, run.lease_holder, run.lease_until) == ("succeeded", 7, "", None)


def test_staying_writes_the_fields_only_while_the_status_is_the_one_read():
    run = a_run(status="training", attempts=2)
    runs = TrainingRun.objects.filter(id=run.id)
    assert transition(runs, sources=["training"], progress=40) is True
    assert transition(runs, sources=["starting"], progress=90) is False
    run.refresh_from_db()
    assert (run.status, run.progress, run.attempts) == ("training", 40, 2)


def test_simulated_is_said_once_for_runs_and_jobs():
    assert a_run(backend="demo").simulated
    assert not a_run(backend="replicate").simulated
    assert Generation(backend="demo").simulated
    assert not Generation(backend="replicate").simulated
