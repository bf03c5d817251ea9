"""Recording what changed in a project: the activity feed and the live pages' events.

`event_record` is called by the services that change state, inside their transaction: the row
commits with the change or not at all, and only after commit is its id published (core.live)
to the project's group. Events carry ids only; receivers are checked against membership when an
event is sent to them (projects/consumers.py).
"""

from django.db import transaction

from accounts.models import User
from core import live
from projects.models import ProjectEvent


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
