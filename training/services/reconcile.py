"""Re-driving runs that should have moved on (the beat's reconcile task)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core.leases import lease_expired
from training.models import TrainingRun
from training.services.deadlines import overdue, training_expire
from training.services.states import to_announce
from training.tasks import notify_owner, publish_lora, submit_training, sync_training


def training_reconcile(*, batch_size: int = 50) -> int:
    """Re-drive runs that should have moved on: end those past their status' deadline, poll the
    due ones, and re-drive submissions, publications and emails whose attempt stopped (a lost
    message, a killed worker) once their lease is free."""
    count = 0
    for run_id in TrainingRun.objects.filter(overdue()).values_list("id", flat=True)[:batch_size]:
        count += training_expire(run_id=run_id)
    now = timezone.now()
    due = TrainingRun.objects.filter(
        status__in=[TrainingRun.Status.STARTING, TrainingRun.Status.TRAINING],
        provider_training_id__isnull=False,
        next_poll_at__lte=now,
    ).order_by("next_poll_at")[:batch_size]
    for run_id in due.values_list("id", flat=True):
        sync_training.delay(run_id)
        count += 1
    stale = now - timedelta(seconds=settings.REDRIVE_AFTER_SECONDS)
    stalled = (
        TrainingRun.objects.filter(lease_expired())
        .filter(
            Q(status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.SUBMITTING], created_at__lt=stale)
            | Q(status=TrainingRun.Status.PUBLISHING, last_event_at__lt=stale)
        )
        .order_by("created_at")
    )
    for run_id, status in stalled.values_list("id", "status")[:batch_size]:
        (publish_lora if status == TrainingRun.Status.PUBLISHING else submit_training).delay(run_id)
        count += 1
    unannounced = (
        TrainingRun.objects.filter(lease_expired())
        .filter(to_announce(), notified_at__isnull=True, email_error="", completed_at__lt=stale)
        .values_list("id", flat=True)
    )
    for run_id in unannounced[:batch_size]:
        notify_owner.delay(run_id)
        count += 1
    return count
