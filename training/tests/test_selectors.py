"""Reads: why a project cannot train (limits, readiness), estimates and what a run costs."""

from decimal import Decimal

import pytest

from training import selectors, services
from training.models import TrainingLimit, TrainingRun
from training.tests.factories import poll_now, ready_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_daily_and_monthly_limits_explain_themselves(run_on_commit, settings):
    project = ready_project()
    TrainingLimit.objects.create(user=project.owner, runs_per_day=1)
    with run_on_commit():
        run = services.training_start(project=project)
        services.training_cancel(run=run)
    with pytest.raises(services.TrainingNotAllowed, match="daily limit"):
        services.training_start(project=project)
    TrainingLimit.objects.filter(user=project.owner).update(runs_per_day=10, monthly_spend=Decimal("0.50"))
    # A paid training (refused before it is submitted); a simulated one would cost nothing.
    settings.TRAINING_BACKEND = "training.backends.replicate.ReplicateTrainingBackend"
    with pytest.raises(services.TrainingNotAllowed, match="monthly limit of \\$0.50"):
        services.training_start(project=project)


def test_simulated_trainings_cost_nothing_and_never_count_against_the_monthly_spend(run_on_commit):
    project = ready_project()
    # Below any real training's price: only a free one can start.
    TrainingLimit.objects.create(user=project.owner, runs_per_day=10, monthly_spend=Decimal("0.01"))
    with run_on_commit():
        run = services.training_start(project=project)
    with run_on_commit():
        poll_now(run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert (run.estimated_cost, run.actual_cost) == (0, 0)
    assert selectors.training_charge_note(run=run) == "It was simulated (demo mode), so nothing is charged."
    # A row written before this rule, with a price on it, is still not spend.
    TrainingRun.objects.filter(id=run.id).update(actual_cost=Decimal("1.10"))
    with run_on_commit():
        again = services.training_start(project=project)
    assert again.estimated_cost == 0


def test_a_project_that_is_not_ready_cannot_train():
    from projects.tests.factories import ProjectFactory

    with pytest.raises(services.TrainingNotAllowed, match="not ready"):
        services.training_start(project=ProjectFactory())
