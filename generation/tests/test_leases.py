"""One attempt at a time submits a job; a killed attempt is taken over; no prediction twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import TransientProviderError
from generation import services
from generation.models import Generation
from generation.tests.factories import crashed_while_submitting

pytestmark = pytest.mark.django_db


def held_by(generation, holder, *, expired=False, **fields):
    until = timezone.now() + timedelta(seconds=-5 if expired else 300)
    Generation.objects.filter(id=generation.id).update(lease_holder=holder, lease_until=until, **fields)


def test_a_second_attempt_waits_while_the_first_is_submitting(replicate, run_on_commit):
    generation = crashed_while_submitting()
    held_by(generation, "first")
    with run_on_commit():
        services.generation_run(generation_id=generation.id, attempt="second")
    generation.refresh_from_db()
    assert generation.provider_id is None
    assert replicate.prediction_creates() == []


def test_the_redelivered_message_of_a_killed_attempt_takes_over_at_once(replicate, run_on_commit):
    generation = crashed_while_submitting()
    held_by(generation, "killed-task-id")
    with run_on_commit():
        services.generation_run(generation_id=generation.id, attempt="killed-task-id")
    generation.refresh_from_db()
    assert generation.provider_id is not None
    assert (generation.lease_holder, generation.lease_until) == ("", None)
    assert len(replicate.prediction_creates()) == 1


def test_reconcile_takes_over_once_the_lease_ran_out(replicate, run_on_commit):
    generation = crashed_while_submitting()
    Generation.objects.filter(id=generation.id).update(started_at=timezone.now() - timedelta(minutes=5))
    held_by(generation, "killed")
    with run_on_commit():
        services.generation_reconcile()
    assert replicate.prediction_creates() == []

    held_by(generation, "killed", expired=True)
    with run_on_commit():
        services.generation_reconcile()
    generation.refresh_from_db()
    assert generation.provider_id is not None
    assert len(replicate.prediction_creates()) == 1


def test_retries_running_out_leave_a_job_the_provider_took_to_the_reconcile(replicate, run_on_commit):
    generation = crashed_while_submitting()
    backend = services.backend_for("replicate")
    accepted = backend.submit(
        generation=generation, lora=services.lora_source(run=generation.training_run), webhook_url=None
    )  # the reply was lost
    services.generation_give_up(generation_id=generation.id, error=TransientProviderError("Replicate answered 503"))
    generation.refresh_from_db()
    assert generation.status == Generation.Status.RUNNING

    Generation.objects.filter(id=generation.id).update(started_at=timezone.now() - timedelta(minutes=5))
    with run_on_commit():
        services.generation_reconcile()
    generation.refresh_from_db()
    assert generation.provider_id == accepted.id
    assert len(replicate.prediction_creates()) == 1


def test_a_job_past_its_deadline_that_never_reached_the_provider_fails(replicate, run_on_commit):
    generation = crashed_while_submitting()
    Generation.objects.filter(id=generation.id).update(
        started_at=timezone.now() - timedelta(hours=1), state_changed_at=timezone.now() - timedelta(hours=1)
    )
    with run_on_commit():
        services.generation_reconcile()
    generation.refresh_from_db()
    assert generation.status == Generation.Status.FAILED
    assert (
        generation.error
        == "The provider did not take this job within 12 minutes. Nothing was charged. Try again later."
    )
    assert generation.error_kind == "deadline"
    assert replicate.prediction_creates() == []
