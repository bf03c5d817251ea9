"""The base class of every task (wired in photoagent/celery.py)."""

import functools
import logging

from celery.contrib.django.task import DjangoTask
from django.db import transaction
from kombu.exceptions import OperationalError

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
