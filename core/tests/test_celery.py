import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from accounts.tasks import purge_unverified_accounts
from accounts.tests.factories import UserFactory
from photoagent.celery import app as celery_app


def test_tasks_are_routed_to_their_queues():
    router = celery_app.amqp.router
    assert router.route({}, "training.submit_training")["queue"].name == "training"
    assert router.route({}, "generation.run_generation")["queue"].name == "generation"
    assert router.route({}, "accounts.send_verification_email")["queue"].name == "default"
    assert {queue.name for queue in celery_app.conf.task_queues} == {"default", "training", "generation", "library"}


def test_every_beat_entry_names_a_registered_task():
    celery_app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks


def our_tasks():
    celery_app.loader.import_default_modules()
    return [task for name, task in sorted(celery_app.tasks.items()) if not name.startswith("celery.")]


def test_every_task_is_stopped_softly_before_it_is_killed():
    conf = celery_app.conf
    for task in our_tasks():
        soft = task.soft_time_limit or conf.task_soft_time_limit
        hard = task.time_limit or conf.task_time_limit
        assert 0 < soft < hard, task.name


# A task lost with its worker is delivered again (acks late, rejected on worker loss, prefetch 1):
# `make chaos` (bench/chaos.py) SIGKILLs pool processes and whole workers and counts lost=0.


def test_a_lease_outlasts_the_task_that_holds_it():
    from core.leases import lease_seconds

    for name in settings.PROVIDER_TASK_TIME_LIMITS:
        assert celery_app.tasks[name].time_limit < lease_seconds(name), name


def test_redis_redelivers_a_message_only_after_its_task_could_have_finished():
    visibility = celery_app.conf.broker_transport_options.get("visibility_timeout")
    if visibility is None:
        pytest.skip("the embedded broker re-delivers nothing on a timer")
    assert visibility > max(task.time_limit or celery_app.conf.task_time_limit for task in our_tasks())


def test_tasks_refuse_a_model_instance_as_an_argument():
    from kombu.exceptions import EncodeError

    with pytest.raises(EncodeError):
        purge_unverified_accounts.delay(user=UserFactory.build())


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_consumes_a_task_sent_through_the_configured_broker(monkeypatch):
    stale = UserFactory(unverified=True, date_joined=timezone.now() - timedelta(days=400))
    fresh = UserFactory(unverified=True)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    celery_app.control.purge()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        purge_unverified_accounts.delay()
        deadline = time.monotonic() + 30
        while User.objects.filter(id=stale.id).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    assert not User.objects.filter(id=stale.id).exists()
    assert User.objects.filter(id=fresh.id).exists()
