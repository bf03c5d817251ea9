"""Re-driving jobs that should have moved on, and ending those past their phase's deadline."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core import failures
from core.leases import lease_expired
from generation import tasks
from generation.models import Generation
from generation.selectors import generation_stored_indexes
from generation.services.jobs import (
    generation_charge,
    generation_end,
    generation_finish,
    generation_stop_at_provider,
)

logger = logging.getLogger(__name__)


def _phase_filter(phase: str) -> Q:
    running = Q(status=Generation.Status.RUNNING)
    return {
        "queued": Q(status=Generation.Status.QUEUED),
        "submitting": running & Q(provider_id__isnull=True),
        "running": running & Q(provider_id__isnull=False, output_urls=[]),
        "collecting": running & ~Q(output_urls=[]),
    }[phase]


def _overdue() -> Q:
    now = timezone.now()
    overdue = Q(pk__in=[])
    for phase, minutes in settings.GENERATION_STATE_DEADLINE_MINUTES.items():
        overdue |= _phase_filter(phase) & Q(state_changed_at__lt=now - timedelta(minutes=minutes))
    return overdue


def generation_expire(*, generation_id: int) -> bool:
    """End a job whose phase ran past its deadline, keeping any image already stored. Decided in
    the database alone; stopping the prediction is best effort, in a task of its own."""
    generation = Generation.objects.filter(_overdue(), id=generation_id).select_related("project").first()
    if generation is None:
        return False
    phase = generation.phase
    message = failures.with_last_error(
        failures.GENERATION_DEADLINES[phase].format(minutes=settings.GENERATION_STATE_DEADLINE_MINUTES[phase]),
        generation.last_error,
    )
    logger.warning("generation %s: %s ran past its deadline", generation.id, phase)
    if phase == "collecting" and generation_stored_indexes(generation_id=generation.id):
        generation_finish(generation=generation, billed_images=len(generation.output_urls), problems=[message])
        return True
    if phase == "collecting":
        generation_charge(generation=generation, billed_images=len(generation.output_urls))
    ended = generation_end(
        generation_id=generation.id, status=Generation.Status.FAILED, kind=failures.Kind.DEADLINE, message=message
    )
    if ended:
        generation_stop_at_provider(generation=generation)
    return ended


def generation_reconcile(*, batch_size: int = 100) -> int:
    """Re-drive jobs that should have moved on: end those past their phase's deadline, and re-send
    lost messages, missed polls and unstored images."""
    count = 0
    for generation_id in Generation.objects.filter(_overdue()).values_list("id", flat=True)[:batch_size]:
        count += generation_expire(generation_id=generation_id)
    now = timezone.now()
    stale = now - timedelta(seconds=settings.REDRIVE_AFTER_SECONDS)
    running = Generation.objects.filter(status=Generation.Status.RUNNING)
    # Queued but never picked up (a lost message), or started and never recorded (an attempt that
    # stopped: its lease is free again).
    lost = Generation.objects.filter(lease_expired()).filter(
        Q(status=Generation.Status.QUEUED, created_at__lt=stale)
        | Q(status=Generation.Status.RUNNING, provider_id__isnull=True, started_at__lt=stale)
    )
    for generation_id in lost.values_list("id", flat=True)[:batch_size]:
        tasks.run_generation.delay(generation_id)
        count += 1
    due_polls = running.filter(provider_id__isnull=False, output_urls=[], next_poll_at__lt=now - timedelta(seconds=10))
    for generation_id in due_polls.values_list("id", flat=True)[:batch_size]:
        tasks.sync_generation.delay(generation_id)
        count += 1
    due_collections = running.exclude(output_urls=[]).filter(next_poll_at__lt=now)
    for generation_id in due_collections.values_list("id", flat=True)[:batch_size]:
        Generation.objects.filter(id=generation_id).update(
            next_poll_at=now + timedelta(seconds=settings.REDRIVE_AFTER_SECONDS)
        )
        tasks.collect_images.delay(generation_id)
        count += 1
    return count


def generation_repoll(*, generation_id: int) -> bool:
    """Re-drive one active job now (operators): submit, poll or store its images."""
    generation = Generation.objects.filter(id=generation_id, status__in=Generation.ACTIVE).first()
    if generation is None:
        return False
    if not generation.provider_id:
        tasks.run_generation.delay_on_commit(generation.id)
    elif generation.output_urls:
        tasks.collect_images.delay_on_commit(generation.id)
    else:
        Generation.objects.filter(id=generation.id).update(next_poll_at=timezone.now())
        tasks.sync_generation.delay_on_commit(generation.id)
    return True
