"""Publishing live events to the channel layer: the one module that imports Channels' layer API.

A publish names the project and the event id only. It never fails the caller: live pages are a
convenience, and a lost publish is read from the event log (projects.ProjectEvent) by the
connection's catch-up, or by the page's fallback polling.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def project_group(project_id: int) -> str:
    return f"project.{project_id}"


def user_group(user_id: int) -> str:
    """A person's own group: invitations to them, and memberships that start or end."""
    return f"user.{user_id}"


def publish(*, project_id: int, event_id: int) -> None:
    _send(project_group(project_id), {"type": "project.event", "project": project_id, "event": event_id})


def publish_to_user(*, user_id: int, kind: str) -> None:
    _send(user_group(user_id), {"type": "user.event", "kind": kind})


def _send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # a Redis outage must not fail the write that already committed
        logger.warning("live event to %s not published", group, exc_info=True)
