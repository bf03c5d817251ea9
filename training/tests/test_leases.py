"""One attempt at a time per step; killed attempts are taken over; nothing reaches the provider twice."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from core.exceptions import TransientProviderError
from core.leases import lease_claim
from training import services
from training.models import TrainingRun
from training.tests.factories import ready_project

pytestmark = pytest.mark.django_db


def held_by(run, holder, *, expired=False, **fields):
    """The state a worker killed mid-step leaves: its lease, alive or run out."""
    until = timezone.now() + timedelta(seconds=-5 if expired else 300)
    TrainingRun.objects.filter(id=run.id).update(lease_holder=holder, lease_until=until, **fields)


def queued_run():
    return services.training_start(project=ready_project())  # the submit message is not run


def test_a_second_attempt_waits_while_the_first_holds_the_run(replicate):
    run = queued_run()
    held_by(run, "first", status=TrainingRun.Status.SUBMITTING)
    services.training_submit(run_id=run.id, attempt="second")
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUBMITTING
    assert replicate.created("/trainings$") == []


def test_the_redelivered_message_of_a_killed_attempt_takes_over_at_once(replicate):
    run = queued_run()
    held_by(run, "killed-task-id", status=TrainingRun.Status.SUBMITTING)
    services.training_submit(run_id=run.id, attempt="killed-task-id")
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.STARTING
    assert (run.lease_holder, run.lease_until) == ("", None)
    assert len(replicate.created("/trainings$")) == 1


def test_reconcile_takes_over_once_a_killed_attempts_lease_ran_out(replicate, settings):
    run = queued_run()
    TrainingRun.objects.filter(id=run.id).update(created_at=timezone.now() - timedelta(minutes=5))
    held_by(run, "killed", status=TrainingRun.Status.SUBMITTING)
    services.training_reconcile()
    assert replicate.created("/trainings$") == []  # the lease still runs

    held_by(run, "killed", expired=True)
    services.training_reconcile()  # eager in tests: the re-driven submission runs here
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.STARTING
    assert len(replicate.created("/trainings$")) == 1


def test_a_killed_publication_is_finished_by_one_attempt(replicate, run_on_commit):
    with run_on_commit():
        run = services.training_start(project=ready_project())
    run.refresh_from_db()
    replicate.advance(run.provider_training_id, "succeeded")
    TrainingRun.objects.filter(id=run.id).update(
        status=TrainingRun.Status.PUBLISHING, last_event_at=timezone.now() - timedelta(minutes=5)
    )
    held_by(run, "killed")
    services.training_publish(run_id=run.id, attempt="other")
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.PUBLISHING

    held_by(run, "killed", expired=True)
    with run_on_commit():
        services.training_reconcile()
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert len(mail.outbox) == 1


def test_an_email_whose_attempt_was_killed_is_sent_once_by_the_reconcile(db):
    run = queued_run()
    TrainingRun.objects.filter(id=run.id).update(
        status=TrainingRun.Status.FAILED, error="x", completed_at=timezone.now() - timedelta(minutes=5)
    )
    held_by(run, "killed-before-sending")
    services.training_reconcile()
    assert mail.outbox == []

    held_by(run, "killed-before-sending", expired=True)
    services.training_reconcile()
    services.training_reconcile()
    run.refresh_from_db()
    assert len(mail.outbox) == 1
    assert run.notified_at is not None


def test_a_failed_send_frees_the_run_for_the_retry(settings, db):
    run = queued_run()
    TrainingRun.objects.filter(id=run.id).update(status=TrainingRun.Status.FAILED, completed_at=timezone.now())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_PORT = 1  # nothing listens: the send fails
    with pytest.raises(ConnectionRefusedError):
        services.training_notify(run_id=run.id, attempt="first")
    run.refresh_from_db()
    assert (run.notified_at, run.lease_holder) == (None, "")
    assert lease_claim(TrainingRun.objects.filter(id=run.id), holder="retry", seconds=60)


def test_retries_running_out_fail_a_run_the_provider_never_took(replicate):
    run = queued_run()
    TrainingRun.objects.filter(id=run.id).update(
        status=TrainingRun.Status.SUBMITTING, dataset_url="https://api.replicate.com/v1/files/never-used"
    )
    services.training_give_up(run_id=run.id, error=TransientProviderError("Replicate answered 503"))
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED


def test_retries_running_out_leave_a_run_the_provider_took_to_the_reconcile(replicate):
    run = queued_run()
    backend = services.backend_for("replicate")
    name = services.training_package_dataset(run=run)
    url = backend.dataset_url(run=run, dataset_name=name)
    TrainingRun.objects.filter(id=run.id).update(dataset=name, dataset_url=url, status=TrainingRun.Status.SUBMITTING)
    run.refresh_from_db()
    accepted = backend.submit(run=run, dataset_url=url, webhook_url=None)  # the reply was lost
    services.training_give_up(run_id=run.id, error=TransientProviderError("Replicate answered 503"))
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUBMITTING

    TrainingRun.objects.filter(id=run.id).update(created_at=timezone.now() - timedelta(minutes=5))
    services.training_reconcile()
    run.refresh_from_db()
    assert (run.status, run.provider_training_id) == (TrainingRun.Status.STARTING, accepted.id)
    assert len(replicate.created("/trainings$")) == 1
