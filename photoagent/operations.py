"""Reads for operators' background-work page: the broker's queues and the background work of every
app recorded in the database. In the wiring layer, since it reads every app."""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app as celery_app
from django.db import models
from django.db.models.options import Options
from django.utils import timezone
from kombu.exceptions import ChannelError

from generation import selectors as generation_selectors
from generation.models import Generation
from library import selectors as library_selectors
from library.models import LibraryItem
from training import selectors as training_selectors
from training.models import TrainingRun

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 3
# Every reconcile re-drives its items after 2 (library: 10) minutes, every 10 s to 5 min: an item
# still not moving after this long means the reconcile cannot help (beat or workers down, or a bug).
STUCK_AFTER = timedelta(minutes=15)
ENDED_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class QueueDepth:
    name: str
    # None: unknown (the broker did not answer); unacked is also None where the broker keeps no count.
    waiting: int | None
    unacked: int | None


@dataclass(frozen=True)
class BrokerReport:
    transport: str
    queues: list[QueueDepth]
    error: str = ""


def broker_queues() -> BrokerReport:
    """Messages waiting in each Celery queue, and those taken by a worker but not yet acknowledged.

    Redis: the queue lists (every priority step) and kombu's `unacked` hash. Filesystem broker:
    the message files in its folder (it keeps no unacknowledged messages). Never raises: a broker
    that does not answer is reported as an error with unknown depths.
    """
    queues = list(celery_app.conf.task_queues)
    # Without these a Redis host that drops packets would hold the page until the OS gives up.
    timeouts = {"socket_connect_timeout": BROKER_TIMEOUT_SECONDS, "socket_timeout": BROKER_TIMEOUT_SECONDS}
    with celery_app.connection_for_read(transport_options=timeouts) as conn:
        transport = conn.transport_cls
        try:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
            channel = conn.default_channel
            waiting = {queue.name: _waiting(channel, queue.name) for queue in queues}
            unacked = _redis_unacked(channel, queues) if conn.transport.driver_type == "redis" else {}
        except Exception as exc:  # noqa: BLE001 - whatever the broker does, the page still renders
            logger.warning("operations: the broker did not answer: %s", exc)
            return BrokerReport(
                transport=transport,
                queues=[QueueDepth(queue.name, None, None) for queue in queues],
                error=type(exc).__name__,
            )
    return BrokerReport(
        transport=transport,
        queues=[QueueDepth(queue.name, waiting[queue.name], unacked.get(queue.name)) for queue in queues],
    )


def _waiting(channel, name: str) -> int:
    # A passive declare only reads. Redis keeps no key for an empty queue and calls it absent.
    try:
        return channel.queue_declare(queue=name, passive=True).message_count
    except ChannelError:
        return 0


def _redis_unacked(channel, queues) -> dict[str, int]:
    counts = {queue.name: 0 for queue in queues}
    queue_by_route = {queue.routing_key: queue.name for queue in queues}
    with channel.conn_or_acquire() as client:
        tags = client.zrange(channel.unacked_index_key, 0, -1)
        with client.pipeline(transaction=False) as pipe:
            for tag in tags:
                pipe.hget(channel.unacked_key, tag)
            entries = pipe.execute() if tags else []
    for entry in entries:
        if entry is None:
            continue  # acknowledged between the two reads
        _message, _exchange, routing_key = json.loads(entry)
        name = queue_by_route.get(routing_key, routing_key)
        if name in counts:
            counts[name] += 1
    return counts


@dataclass(frozen=True)
class WorkKind:
    key: str
    label: str
    opts: Options  # the model's _meta, for its admin URLs
    # (status, label, count) for every status, in the model's order.
    counts: list[tuple[str, str, int]]
    stuck_count: int
    oldest_stuck: models.Model | None
    # Ended by a status' deadline or a step's attempt budget in the last ENDED_WINDOW (runs and jobs).
    ended_count: int = 0
    latest_ended: models.Model | None = None


def background_work(*, stuck_after: timedelta = STUCK_AFTER) -> list[WorkKind]:
    """Training runs, generation jobs and library analyses per status, with their stuck items."""
    since = timezone.now() - stuck_after
    kinds: list[tuple[str, str, Options, list[tuple[str, str]], Callable, Callable, Callable | None]] = [
        (
            "training",
            "Training runs",
            TrainingRun._meta,
            TrainingRun.Status.choices,
            training_selectors.run_status_counts,
            training_selectors.runs_stuck,
            training_selectors.runs_ended_by_deadline,
        ),
        (
            "generation",
            "Generation jobs",
            Generation._meta,
            Generation.Status.choices,
            generation_selectors.generation_status_counts,
            generation_selectors.generations_stuck,
            generation_selectors.generations_ended_by_deadline,
        ),
        (
            "library",
            "Library analyses",
            LibraryItem._meta,
            LibraryItem.Status.choices,
            library_selectors.item_status_counts,
            library_selectors.items_stuck,
            None,
        ),
    ]
    report = []
    for key, label, opts, choices, status_counts, stuck, ended in kinds:
        counts = status_counts()
        stuck_items = stuck(since=since)
        ended_items = ended(since=timezone.now() - ENDED_WINDOW) if ended else None
        report.append(
            WorkKind(
                key=key,
                label=label,
                opts=opts,
                counts=[(value, name, counts.get(value, 0)) for value, name in choices],
                stuck_count=stuck_items.count(),
                oldest_stuck=stuck_items.first(),
                ended_count=ended_items.count() if ended_items is not None else 0,
                latest_ended=ended_items.first() if ended_items is not None else None,
            )
        )
    return report
