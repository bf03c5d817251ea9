"""The training flow end to end through a real Celery worker on the configured broker (Redis in CI)."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone

from photoagent.celery import app as celery_app
from standins.replicate import start_replicate_standin
from tests.support import wait_for
from training import services
from training.models import TrainingRun
from training.tests.factories import ready_project


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_happy_path_through_a_real_worker(settings, monkeypatch):
    replicate = start_replicate_standin()
    settings.TRAINING_BACKEND = "training.backends.replicate.ReplicateTrainingBackend"
    settings.REPLICATE_API_TOKEN = "r8_standin"
    settings.REPLICATE_BASE_URL = replicate.url
    settings.REPLICATE_OWNER = "acme"
    project = ready_project()
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    celery_app.control.purge()
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            run = services.training_start(project=project)  # autocommit: enqueued at once
            assert wait_for(lambda: TrainingRun.objects.get(id=run.id).provider_training_id)
            run.refresh_from_db()
            replicate.advance(run.provider_training_id, "succeeded")
            TrainingRun.objects.filter(id=run.id).update(next_poll_at=timezone.now())
            services.training_reconcile()  # what beat runs: it queues a poll
            assert wait_for(lambda: len(mail.outbox) == 1)
    finally:
        replicate.shutdown()
        replicate.server_close()
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert run.lora_file
    assert len(replicate.created("/trainings$")) == 1
    assert "is ready" in mail.outbox[0].subject


@pytest.mark.django_db
def test_the_result_emails_give_up_records_a_permanent_error_and_leaves_a_transient_one():
    from core.exceptions import PermanentProviderError, TransientProviderError

    run = services.training_start(project=ready_project())
    services.training_email_give_up(run_id=run.id, error=TransientProviderError("SendGrid answered 503"))
    run.refresh_from_db()
    assert run.email_error == "", "the reconcile task sends again"
    services.training_email_give_up(run_id=run.id, error=PermanentProviderError("bad address"))
    run.refresh_from_db()
    assert run.email_error == "bad address"
    assert celery_app.tasks["training.notify_owner"].give_up_with == "training.services.training_email_give_up"
