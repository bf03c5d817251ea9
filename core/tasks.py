"""The base class of every task (wired in photoagent/celery.py)."""

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from kombu.exceptions import OperationalError

from core.exceptions import ProviderError, TransientProviderError, UnexpectedStepError

logger = logging.getLogger(__name__)


class Task(DjangoTask):
    """`delay_on_commit` survives a broker outage.

    The write it follows is committed by then, so raising would turn a saved change into an error
    page (or a failed task) while changing nothing; every such message is also re-driven from the
    database by a reconcile task, so the message can wait for it.
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


class ProviderStepTask(Task):
    """A task that works on one run or job at a provider (its id is the first argument).

    Transient errors are retried with backoff and jitter (the task's retry options bound them);
    each retry is noted on the run or job. When retries run out, or a permanent error escapes the
    step, `give_up` decides how the work ends.
    """

    autoretry_for = (TransientProviderError,)
    object_argument = "id"

    def _object_id(self, args, kwargs):
        return args[0] if args else kwargs.get(self.object_argument)

    def note_error(self, object_id, exc) -> None:
        """Remember the error on the run or job."""

    def give_up(self, object_id, exc) -> None:
        logger.warning("%s(%s) gave up: %s", self.name, object_id, exc)

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
            exc = UnexpectedStepError(f"unexpected {type(exc).__name__}: {exc}"[:300])
        self.give_up(object_id, exc)


# Stored files (core/storage.py)
# ------------------------------------------------------------------------------
# Their first names were projects.*: those stay registered below, so messages already queued run.

_DELETE_FILES = {
    "autoretry_for": (OSError,),
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
    "soft_time_limit": 60,
    "time_limit": 90,
}


def _delete_files(names: list[str]) -> None:
    # Deleting a missing object is a no-op, so a retry after a partial run is safe.
    for name in names:
        default_storage.delete(name)


@shared_task(name="core.delete_stored_files", **_DELETE_FILES)
def delete_stored_files(names: list[str], **kwargs) -> None:
    _delete_files(names)


@shared_task(name="projects.delete_stored_files", **_DELETE_FILES)
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
