"""The one policy of the provider tasks (core.tasks.provider_task): each keeps its retries and
time limits, notes each retry and gives up through its service's hook."""

from unittest import mock

import pytest
from django.conf import settings

from core.exceptions import PermanentProviderError, TransientProviderError, UnexpectedStepError
from core.tasks import ProviderStepTask, Retry, provider_task
from photoagent.celery import app as celery_app


def leased(name: str) -> tuple[int, int]:
    """The limits of a task that holds a lease: its hard limit from settings, the soft one a
    twelfth (at least 5 s) earlier, as the settings' task annotations gave them before."""
    limit = settings.PROVIDER_TASK_TIME_LIMITS[name]
    return limit - max(5, limit // 12), limit


# name: (max_retries, backoff, backoff_max, soft limit, hard limit)
POLICY = {
    "training.submit_training": (8, 15, 600, *leased("training.submit_training")),
    "training.sync_training": (8, 15, 600, 60, 90),
    "training.publish_lora": (8, 15, 600, *leased("training.publish_lora")),
    "training.notify_owner": (8, 15, 600, *leased("training.notify_owner")),
    "training.cancel_at_provider": (8, 15, 600, 60, 90),
    "generation.run_generation": (6, 5, 120, *leased("generation.run_generation")),
    "generation.sync_generation": (6, 5, 120, 60, 90),
    "generation.collect_images": (6, 5, 120, 300, 360),
    "generation.cancel_at_provider": (6, 5, 120, 60, 90),
    "library.analyse_item": (5, 10, 300, 120, 150),
    "accounts.send_account_email": (6, 30, 600, 30, 60),
}
# The tasks whose backoff settings.PROVIDER_RETRY_BACKOFF_MAX also caps: the training and
# generation steps, as before the one policy; account emails, library analysis and file deletion
# keep their own maximum.
CAPPED = {name for name in POLICY if name.split(".")[0] in {"training", "generation"}}


@pytest.mark.parametrize("name", POLICY)
def test_each_provider_task_keeps_its_retries_and_time_limits(name):
    celery_app.loader.import_default_modules()
    task = celery_app.tasks[name]
    assert isinstance(task, ProviderStepTask)
    assert (task.max_retries, task.retry_backoff, task.retry_backoff_max) == POLICY[name][:3]
    assert (task.soft_time_limit, task.time_limit) == POLICY[name][3:]
    assert task.retry_jitter is True
    assert task.autoretry_for == (TransientProviderError,)


def test_a_capped_backoff_is_capped_by_the_setting_and_only_that(settings):
    settings.PROVIDER_RETRY_BACKOFF_MAX = 8
    assert Retry(max_retries=3, backoff=5, backoff_max=600, capped=True).options()["retry_backoff_max"] == 8
    assert Retry(max_retries=3, backoff=5, backoff_max=600).options()["retry_backoff_max"] == 600


@pytest.mark.parametrize("name", [*POLICY, "core.delete_stored_files", "projects.delete_stored_files"])
def test_only_the_training_and_generation_steps_are_capped_by_the_setting(name):
    celery_app.loader.import_default_modules()
    assert celery_app.tasks[name].retry_rule.capped is (name in CAPPED)


@pytest.mark.parametrize("name", ["core.delete_stored_files", "projects.delete_stored_files"])
def test_the_file_deletion_tasks_keep_their_retries_and_time_limits(name):
    celery_app.loader.import_default_modules()
    task = celery_app.tasks[name]
    assert (task.max_retries, task.retry_backoff, task.retry_backoff_max) == (8, 10, 600)
    assert (task.soft_time_limit, task.time_limit) == (60, 90)
    assert task.retry_jitter is True
    assert task.autoretry_for == (OSError,)


@pytest.mark.parametrize(
    "name", ["accounts.send_verification_email", "accounts.send_signup_notice", "accounts.send_password_reset_email"]
)
def test_the_email_tasks_of_messages_queued_before_the_records_stay_registered(name):
    celery_app.loader.import_default_modules()
    assert (celery_app.tasks[name].soft_time_limit, celery_app.tasks[name].time_limit) == (30, 60)


hooks = mock.Mock()


def note(*, thing_id, error):
    hooks.note(thing_id=thing_id, error=error)


def give_up(*, thing_id, error):
    hooks.give_up(thing_id=thing_id, error=error)


attempts: list[int] = []


@provider_task(
    "core.tests.flaky",
    retry=Retry(max_retries=2, backoff=1, backoff_max=1),
    time_limit=10,
    object_argument="thing_id",
    note_error=note,
    give_up="core.tests.test_tasks.give_up",
)
def flaky(thing_id: int, fail_with: str = "transient") -> None:
    attempts.append(thing_id)
    if fail_with == "transient":
        raise TransientProviderError("try later")
    if fail_with == "permanent":
        raise PermanentProviderError("never")
    raise KeyError("a bug")


@pytest.fixture
def as_a_worker(monkeypatch):
    """Eager tasks fail as on a worker (their on_failure runs) instead of raising to the caller."""
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    hooks.reset_mock()
    attempts.clear()


def test_transient_errors_are_retried_each_noted_then_given_up(as_a_worker):
    flaky.apply(args=[7])
    assert attempts == [7, 7, 7]
    assert [call.kwargs["thing_id"] for call in hooks.note.call_args_list] == [7, 7]
    assert hooks.give_up.call_count == 1
    assert isinstance(hooks.give_up.call_args.kwargs["error"], TransientProviderError)


def test_a_permanent_error_gives_up_at_once(as_a_worker):
    flaky.apply(kwargs={"thing_id": 8, "fail_with": "permanent"})
    assert attempts == [8]
    assert not hooks.note.called
    assert isinstance(hooks.give_up.call_args.kwargs["error"], PermanentProviderError)


def test_an_unclassified_error_gives_up_as_unexpected_naming_its_cause(as_a_worker):
    flaky.apply(args=[9], kwargs={"fail_with": "bug"})
    error = hooks.give_up.call_args.kwargs["error"]
    assert isinstance(error, UnexpectedStepError)
    assert isinstance(error.__cause__, KeyError)
