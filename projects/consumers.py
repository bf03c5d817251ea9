"""The live pages' WebSocket (`ws/live/`): tells a page WHEN to fetch its parts, never what they show.

A signed-in person's connection joins their own group (`user.<id>`) and one group per project they
are a member of. Each event is re-checked against the receiver's current membership before it is
sent, and carries ids and its kind only: the page fetches its live region through the ordinary
(access-checked) views.

Missed events come from the log (projects.ProjectEvent): on (re)connect the client says the last
event id it saw (`?after=<id>` or a first message `{"after": id}`) and gets what came since, at most
CATCHUP_MAX of them (more: `{"refresh": "all"}`). On the embedded default the channel layer is in
memory, so events written by a Celery worker process never reach it: the connection also reads the
log every LIVE_CATCHUP_SECONDS (one indexed query). Events are sent once each, by id.

Messages to the client: `{"ready": last_id}` once connected, `{"project", "event", "kind"}` per
event, `{"user_event": kind}` (invitations, memberships), `{"refresh": "all"}`, `{"pong": x}`.
From the client: `{"after": id}`, `{"ping": x}` (its heartbeat; uvicorn also pings at the protocol level).
"""

import asyncio
import logging
from collections import deque
from urllib.parse import parse_qs

from channels.db import DatabaseSyncToAsync, database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from core.live import project_group, user_group
from projects.access import project_ids_for
from projects.models import Membership, ProjectEvent

logger = logging.getLogger(__name__)

# Close code for an anonymous connection: the client stops retrying (the page is the login page's).
UNAUTHENTICATED = 4401
CATCHUP_MAX = 200
# How far back each log read looks below the last id seen: a transaction that took an id earlier
# may commit after a later one was already read.
TAIL_OVERLAP = 50
SEEN_MAX = 2000


def _parse_id(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.user = self.scope.get("user")
        self.project_ids: set[int] = set()
        self.seen: set[int] = set()
        self.seen_order: deque[int] = deque()
        self.last_id = 0
        self.tail_task: asyncio.Task | None = None
        self.caught_up = False
        if not getattr(self.user, "is_authenticated", False):
            # Accept first, so the close code reaches the browser (a refused handshake has none).
            await self.accept()
            await self.close(code=UNAUTHENTICATED)
            return
        await self.accept()
        await self.channel_layer.group_add(user_group(self.user.id), self.channel_name)
        await self._sync_groups()
        after = _parse_id((parse_qs(self.scope.get("query_string", b"").decode()).get("after") or [None])[0])
        if after is not None:
            await self._catch_up(after)
        else:
            # A first page load: it has just rendered, nothing to catch up; a first message may still.
            self.last_id = await self._latest_id()
            await self.send_json({"ready": self.last_id})
        if not settings.LIVE_LAYER_SHARED:
            self.tail_task = asyncio.create_task(self._tail())

    async def disconnect(self, code):
        if self.tail_task is not None:
            self.tail_task.cancel()
        if not getattr(self.user, "is_authenticated", False):
            return
        await self.channel_layer.group_discard(user_group(self.user.id), self.channel_name)
        for project_id in self.project_ids:
            await self.channel_layer.group_discard(project_group(project_id), self.channel_name)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        if "ping" in content:
            await self.send_json({"pong": content["ping"]})
        after = _parse_id(content.get("after"))
        if after is not None and not self.caught_up:
            await self._catch_up(after)

    # Messages from the channel layer (core.live) ------------------------------------------------

    async def project_event(self, message):
        event_id, project_id = message.get("event"), message.get("project")
        if not isinstance(event_id, int) or not isinstance(project_id, int) or event_id in self.seen:
            return
        kind = await self._kind_for_member(project_id=project_id, event_id=event_id)
        if kind is None:
            if project_id not in await self._member_project_ids():
                self.project_ids.discard(project_id)
                await self.channel_layer.group_discard(project_group(project_id), self.channel_name)
            return
        await self._send_event(event_id=event_id, project_id=project_id, kind=kind)

    async def user_event(self, message):
        # Memberships may have started or ended: follow them before the page refreshes.
        await self._sync_groups()
        await self.send_json({"user_event": message.get("kind", "")})

    # ---------------------------------------------------------------------------------------------

    async def _send_event(self, *, event_id: int, project_id: int, kind: str) -> None:
        if event_id in self.seen:
            return
        self.seen.add(event_id)
        self.seen_order.append(event_id)
        while len(self.seen_order) > SEEN_MAX:
            self.seen.discard(self.seen_order.popleft())
        self.last_id = max(self.last_id, event_id)
        await self.send_json({"project": project_id, "event": event_id, "kind": kind})

    async def _sync_groups(self) -> None:
        current = await self._member_project_ids()
        for project_id in current - self.project_ids:
            await self.channel_layer.group_add(project_group(project_id), self.channel_name)
        for project_id in self.project_ids - current:
            await self.channel_layer.group_discard(project_group(project_id), self.channel_name)
        self.project_ids = current

    async def _catch_up(self, after: int) -> None:
        self.caught_up = True
        events, overflow = await self._events_after(after, limit=CATCHUP_MAX)
        if overflow:
            self.last_id = max(self.last_id, events[-1][0] if events else after)
            await self.send_json({"refresh": "all"})
        else:
            self.last_id = max(self.last_id, after)
            for event_id, project_id, kind in events:
                await self._send_event(event_id=event_id, project_id=project_id, kind=kind)
        await self.send_json({"ready": self.last_id})

    async def _tail(self) -> None:
        """The embedded default: read the log for what other processes wrote."""
        while True:
            await asyncio.sleep(settings.LIVE_CATCHUP_SECONDS)
            try:
                events, overflow = await self._events_after(max(self.last_id - TAIL_OVERLAP, 0), limit=CATCHUP_MAX)
            except Exception:  # a locked SQLite file: the next tick tries again
                logger.warning("live log read failed", exc_info=True)
                continue
            if overflow:
                self.last_id = max(self.last_id, events[-1][0])
                await self.send_json({"refresh": "all"})
                continue
            for event_id, project_id, kind in events:
                if project_id not in self.project_ids:  # a project joined through another process
                    await self._sync_groups()
                await self._send_event(event_id=event_id, project_id=project_id, kind=kind)

    # Database reads ------------------------------------------------------------------------------

    @database_sync_to_async
    def _member_project_ids(self) -> set[int]:
        return set(Membership.objects.filter(user=self.user).values_list("project_id", flat=True))

    @database_sync_to_async
    def _latest_id(self) -> int:
        return ProjectEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def _kind_for_member_now(self, *, project_id: int, event_id: int) -> str | None:
        """The event's kind if the receiver is a member of its project now, else None: one query,
        the membership (projects.access) checked in it."""
        return (
            ProjectEvent.objects.filter(id=event_id, project_id=project_id)
            .filter(project_id__in=project_ids_for(user=self.user))
            .values_list("kind", flat=True)
            .first()
        )

    # Every member's connection checks each event at once: in the thread pool, side by side (a
    # read; thread-sensitive calls would queue behind each other on one thread).
    _kind_for_member = DatabaseSyncToAsync(_kind_for_member_now, thread_sensitive=False)

    @database_sync_to_async
    def _events_after(self, after: int, *, limit: int) -> tuple[list[tuple[int, int, str]], bool]:
        """Events of the receiver's projects (membership checked in the same query) after an id,
        oldest first; True when more than `limit` came (only the newest `limit` are returned)."""
        rows = list(
            ProjectEvent.objects.filter(id__gt=after, project_id__in=project_ids_for(user=self.user))
            .order_by("-id")
            .values_list("id", "project_id", "kind")[: limit + 1]
        )
        overflow = len(rows) > limit
        return list(reversed(rows[:limit])), overflow
