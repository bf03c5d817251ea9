"""The base class of every task (wired in photoagent/celery.py)."""

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from celery.contrib.django.task import DjangoTask
from celery.exceptions import SoftTimeLimitExceeded
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
