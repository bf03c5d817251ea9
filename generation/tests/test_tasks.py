"""Generation through a real Celery worker on the configured broker (Redis in CI), on its own queue."""

import pytest
from celery.contrib.testing.worker import start_worker

from generation import services
from generation.models import Generation
from generation.tests.factories import trained_model
from photoagent.celery import app as celery_app
from tests.support import wait_for


def test_generation_runs_on_its_own_queue_apart_from_training_and_email():
    router = celery_app.amqp.router
    for task in ("generation.run_generation", "generation.sync_generation", "generation.collect_images"):
        assert router.route({}, task)["queue"].name == "generation"
    for task in ("training.publish_lora", "training.notify_owner"):
        assert router.route({}, task)["queue"].name == "training"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_job_is_polled_and_stored_by_a_worker_of_the_generation_queue(settings, monkeypatch):
    settings.GENERATION_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.DEMO_GENERATION_SECONDS = 1
    settings.GENERATION_POLL_SECONDS = 0.5
    run = trained_model()
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    celery_app.control.purge()
    worker = start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=["generation"])
    try:
        with worker:
            generation = services.generation_create(user=run.project.owner, training_run=run, prompt="x", num_outputs=2)
            assert wait_for(lambda: Generation.objects.get(id=generation.id).is_terminal, seconds=30)
    finally:
        # The worker narrowed the app's queue selection; later workers in this process consume all.
        celery_app.amqp.queues._consume_from = None
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED, generation.error
    assert generation.polls >= 1  # it was running when submitted, so the worker polled it
    assert generation.images.count() == 2
