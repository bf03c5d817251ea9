"""The base class of every task (wired in photoagent/celery.py) and the one policy of the tasks
that work at a provider (`provider_task`)."""

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError

from core.exceptions import ProviderError, TransientProviderError, UnexpectedStepError

logger = logging.getLogger(__name__)

# What a give-up or note-error hook is: a service's dotted path, or a function. Either is called
# with the task's object argument and the error as keywords: `hook(run_id=7, error=exc)`.
Hook = str | Callable[..., None]


class Task(DjangoTask):
    """`delay_on_commit` survives a broker outage: it logs and leaves the message.

    The write it follows is committed by then, so raising would turn a saved change into an error
    page (or a failed task) while changing nothing. Most such messages are re-driven from the
    database, so the message can wait for that:

    - training runs' and generation jobs' steps (submit, sync, publish, notify; run, sync,
      collect) by training.reconcile_runs and generation.reconcile_jobs;
    - photo processing by projects.reconcile_photos; library items and their analysis by
      library.reconcile_items; account emails by accounts.reconcile_emails;
    - stored-file deletion by the storage sweep (core.sweep_storage deletes files no record names).

    Three are best effort, with no reconcile: a lost message loses only that step.
    - generation.score_likeness: the likeness score is an optional figure on a finished job;
    - projects.analyse_faces: the face notes only refine a photo's advice, which works without them;
    - training.cancel_at_provider and generation.cancel_at_provider: our side has already ended the
      run or job and records nothing more from it; what still runs at the provider finishes or
      times out there on its own (and may be billed).
    Purges and reconciles are on beat: a lost one runs again at its next beat.
    """

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(functools.partial(self._delay_or_leave, args, kwargs))

    def _delay_or_leave(self, args: tuple, kwargs: dict) -> None:
        try:
            self.delay(*args, **kwargs)
        except OperationalError as error:
            logger.warning("broker unreachable, %s%r left to the reconcile tasks: %s", self.name, args, error)


@contextmanager
def classified(what: str) -> Iterator[None]:
    """Every exception leaving a task body has a class: provider errors as they are, a time limit
    as transient, anything else logged (with `what`: the task and its run or job) and raised as an
    UnexpectedStepError, which is retried and bounded by the step's attempt budget."""
    try:
        yield
    except ProviderError:
        raise
    except SoftTimeLimitExceeded as exc:
        raise TransientProviderError(f"{what}: took longer than its time limit") from exc
    except Exception as exc:
        logger.exception("%s: unexpected %s", what, type(exc).__name__)
        raise UnexpectedStepError(f"unexpected {type(exc).__name__}: {exc}"[:300]) from exc


@dataclass(frozen=True)
class Retry:
    """How a task retries: `max_retries` times on `on`, with exponential backoff from `backoff`
    seconds up to `backoff_max`, jittered.

    `capped` also bounds the backoff by settings.PROVIDER_RETRY_BACKOFF_MAX (read when the task is
    defined): the training and generation steps take it, so a test or chaos run can shorten them;
    the other tasks keep their own maximum.
    """

    max_retries: int
    backoff: int
    backoff_max: int
    on: tuple[type[BaseException], ...] = (TransientProviderError,)
    capped: bool = False

    def options(self) -> dict[str, Any]:
        """The retry options of Celery's task decorator (and the rule itself, as `retry_rule`)."""
        backoff_max = min(self.backoff_max, settings.PROVIDER_RETRY_BACKOFF_MAX) if self.capped else self.backoff_max
        return {
            "autoretry_for": self.on,
            "retry_backoff": self.backoff,
            "retry_backoff_max": backoff_max,
            "retry_jitter": True,
            "max_retries": self.max_retries,
            "retry_rule": self,
        }


def soft_limit_for(time_limit: int) -> int:
    """The soft time limit that leaves a step time to clean up before its hard one."""
    return time_limit - max(5, time_limit // 12)


class ProviderStepTask(Task):
    """A task that works on one object (a run, a job, an item, an email) at a provider; its id is
    the first argument, or the keyword `object_argument`.

    Transient errors are retried with backoff and jitter (the task's `Retry`); each retry is noted
    through `note_error_with`. When retries run out, or a permanent error escapes the step,
    `give_up_with` decides how the work ends. Both are hooks (see `Hook`); made by `provider_task`.
    """

    autoretry_for: tuple[type[BaseException], ...] = (TransientProviderError,)
    object_argument = "id"
    note_error_with: Hook | None = None
    give_up_with: Hook | None = None

    def _object_id(self, args, kwargs):
        return args[0] if args else kwargs.get(self.object_argument)

    def _call_hook(self, hook: Hook, object_id, exc: BaseException) -> None:
        function = import_string(hook) if isinstance(hook, str) else hook
        function(**{self.object_argument: object_id, "error": exc})

    def note_error(self, object_id, exc) -> None:
        """Remember the error on the run or job."""
        if self.note_error_with is not None:
            self._call_hook(self.note_error_with, object_id, exc)

    def give_up(self, object_id, exc) -> None:
        if self.give_up_with is None:
            logger.warning("%s(%s) gave up: %s", self.name, object_id, exc)
            return
        self._call_hook(self.give_up_with, object_id, exc)

    def on_retry(self, exc, task_id, args, kwargs, einfo):
        object_id = self._object_id(args, kwargs)
        if object_id is not None:
            self.note_error(object_id, exc)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        object_id = self._object_id(args, kwargs)
        if object_id is None:
            return
        if not isinstance(exc, ProviderError):
            # `classified` should have made it one; say so loudly rather than lose the work.
            logger.error("%s(%s) raised an unclassified %s: %s", self.name, object_id, type(exc).__name__, exc)
            unexpected = UnexpectedStepError(f"unexpected {type(exc).__name__}: {exc}"[:300])
            unexpected.__cause__ = exc
            exc = unexpected
        self.give_up(object_id, exc)


def provider_task(
    name: str,
    *,
    retry: Retry,
    time_limit: int,
    soft_time_limit: int | None = None,
    object_argument: str = "id",
    give_up: Hook | None = None,
    note_error: Hook | None = None,
    base: type[ProviderStepTask] = ProviderStepTask,
    bind: bool = False,
) -> Callable[[Callable[..., Any]], Any]:
    """The decorator of every task that works at a provider: one policy for all of them.

    `retry` bounds the retries of transient errors; `give_up` ends the work when they run out or a
    permanent error escapes (a hook: the service's give-up function); `note_error` records each
    retry. The time limits are stated here, where the task is defined: a task that holds a lease
    takes its limit from settings.PROVIDER_TASK_TIME_LIMITS, which also bounds the lease
    (core.leases). Without `soft_time_limit` the soft limit leaves the step time to clean up.
    """
    return shared_task(
        name=name,
        base=base,
        bind=bind,
        time_limit=time_limit,
        soft_time_limit=soft_time_limit if soft_time_limit is not None else soft_limit_for(time_limit),
        object_argument=object_argument,
        give_up_with=_as_attribute(give_up),
        note_error_with=_as_attribute(note_error),
        **retry.options(),
    )


def retrying_task(
    name: str, *, retry: Retry, time_limit: int, soft_time_limit: int | None = None
) -> Callable[[Callable[..., Any]], Any]:
    """The decorator of a task that retries (`retry`) but works on no run, job or item: the same
    policy as `provider_task` without the note-error and give-up hooks."""
    return shared_task(
        name=name,
        time_limit=time_limit,
        soft_time_limit=soft_time_limit if soft_time_limit is not None else soft_limit_for(time_limit),
        **retry.options(),
    )


def _as_attribute(hook: Hook | None):
    # A function stored on the task class must not become a bound method.
    return staticmethod(hook) if callable(hook) else hook


# Stored files (core/storage.py)
# ------------------------------------------------------------------------------
# Their first names were projects.*: those stay registered below, so messages already queued run.

# A storage error (S3 unreachable, a full disk) is retried; what is still left is the sweep's.
DELETE_FILES: dict[str, Any] = {
    "retry": Retry(max_retries=8, backoff=10, backoff_max=600, on=(OSError,)),
    "soft_time_limit": 60,
    "time_limit": 90,
}


def _delete_files(names: list[str]) -> None:
    # Deleting a missing object is a no-op, so a retry after a partial run is safe.
    for name in names:
        default_storage.delete(name)


@retrying_task("core.delete_stored_files", **DELETE_FILES)
def delete_stored_files(names: list[str], **kwargs) -> None:
    _delete_files(names)


@retrying_task("projects.delete_stored_files", **DELETE_FILES)
def delete_stored_files_queued_before_core(names: list[str], **kwargs) -> None:
    _delete_files(names)


def _sweep() -> None:
    from core.storage import storage_sweep

    storage_sweep(older_than=timedelta(hours=settings.STORAGE_SWEEP_AFTER_HOURS))


@shared_task(name="core.sweep_storage", soft_time_limit=1800, time_limit=1900)
def sweep_storage(**kwargs) -> None:
    _sweep()


@shared_task(name="projects.sweep_storage", soft_time_limit=1800, time_limit=1900)
def sweep_storage_queued_before_core(**kwargs) -> None:
    _sweep()
