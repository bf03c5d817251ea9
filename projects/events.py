"""Recording what changed in a project: the activity feed and the live pages' events.

`event_record` is called by the services that change state, inside their transaction: the row
commits with the change or not at all, and only after commit is its id published (core.live)
to the project's group. Events carry ids only; receivers are checked against membership when an
event is sent to them (projects/consumers.py).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core import live
from projects.models import FEED_KINDS, ProjectEvent


def event_record(*, project_id: int, kind: str, actor: User | None = None, **subject) -> ProjectEvent:
    """Write one event (subject: ids and short codes only, e.g. photo=12, status="succeeded") and
    publish it once the surrounding transaction commits."""
    event = ProjectEvent.objects.create(
        project_id=project_id,
        kind=kind,
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        subject=subject,
    )
    transaction.on_commit(lambda: live.publish(project_id=project_id, event_id=event.id))
    return event


def events_purge_old(*, batch_size: int = 5000) -> int:
    """Delete the events only live pages used (not in the activity feed) once they are older than
    LIVE_EVENT_RETENTION_DAYS: a reconnect never catches up that far. Returns how many went."""
    cutoff = timezone.now() - timedelta(days=settings.LIVE_EVENT_RETENTION_DAYS)
    stale = ProjectEvent.objects.filter(created_at__lt=cutoff).exclude(kind__in=FEED_KINDS)
    deleted = 0
    while ids := list(stale.values_list("id", flat=True)[:batch_size]):
        deleted += ProjectEvent.objects.filter(id__in=ids).delete()[0]
    return deleted
