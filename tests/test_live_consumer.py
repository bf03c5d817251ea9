"""The live pages' WebSocket (projects/consumers.py) through the real ASGI application: who hears
about what, after a commit, after a reconnect, and from another process on the embedded default."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.db import transaction
from django.test import Client

from accounts.tests.factories import UserFactory
from photoagent.asgi import application
from projects.consumers import UNAUTHENTICATED
from projects.events import event_record
from projects.models import Membership, ProjectEvent, Role
from projects.tests.factories import ProjectFactory
from tests.support import WebsocketCommunicator

pytestmark = pytest.mark.django_db(transaction=True)

KIND = ProjectEvent.Kind.PHOTO_DESCRIBED


@pytest.fixture(autouse=True)
def _fast_tail(settings):
    settings.LIVE_CATCHUP_SECONDS = 0.1


def cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def socket(user=None, query="") -> WebsocketCommunicator:
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if user is not None:
        headers.append((b"cookie", cookie_for(user)))
    return WebsocketCommunicator(application, f"/ws/live/{query}", headers=headers)


def run(scenario):
    async_to_sync(scenario)()


@database_sync_to_async
def service_change(project, actor=None) -> int:
    """What a service does: the change and its event in one transaction, published after commit."""
    with transaction.atomic():
        event = event_record(project_id=project.id, kind=KIND, actor=actor, photo=1)
    return event.id


async def connected(communicator) -> int:
    ok, _ = await communicator.connect()
    assert ok
    message = await communicator.receive_json_from(timeout=3)
    assert "ready" in message
    return message["ready"]


async def events_within(communicator, seconds=1.0) -> list[dict]:
    received = []
    while (message := await communicator.next_json(seconds)) is not None:
        if "event" in message:
            received.append(message)
    return received


def test_an_anonymous_connection_is_closed_with_the_unauthenticated_code():
    async def scenario():
        communicator = socket()
        ok, _ = await communicator.connect()
        assert ok
        assert await communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": UNAUTHENTICATED}

    run(scenario)


def test_a_foreign_origin_is_refused(db):
    user = UserFactory()

    async def scenario():
        communicator = WebsocketCommunicator(
            application, "/ws/live/", headers=[(b"origin", b"https://evil.example"), (b"cookie", cookie_for(user))]
        )
        ok, _ = await communicator.connect()
        assert not ok

    run(scenario)


@pytest.mark.parametrize("shared", [True, False], ids=["shared-layer", "embedded"])
def test_members_hear_of_a_committed_change_and_others_never_do(settings, shared):
    settings.LIVE_LAYER_SHARED = shared
    project = ProjectFactory()
    editor, outsider = UserFactory(), UserFactory()
    Membership.objects.create(project=project, user=editor, role=Role.EDITOR)
    ProjectFactory(owner=outsider)

    async def scenario():
        owner_socket, outsider_socket = socket(project.owner), socket(outsider)
        await connected(owner_socket)
        await connected(outsider_socket)
        event_id = await service_change(project, actor=editor)
        received = await events_within(owner_socket)
        assert received == [{"project": project.id, "event": event_id, "kind": KIND}]  # once, not per path
        assert await events_within(outsider_socket, 0.5) == []
        await owner_socket.disconnect()
        await outsider_socket.disconnect()

    run(scenario)


def test_a_removed_member_stops_hearing(settings):
    settings.LIVE_LAYER_SHARED = True  # the group message is the only path: its membership check is what stops it
    project = ProjectFactory()
    editor = UserFactory()
    membership = Membership.objects.create(project=project, user=editor, role=Role.EDITOR)

    async def scenario():
        communicator = socket(editor)
        await connected(communicator)
        first = await service_change(project)
        assert [m["event"] for m in await events_within(communicator)] == [first]
        await database_sync_to_async(membership.delete)()
        await service_change(project)
        assert await events_within(communicator, 0.5) == []
        await communicator.disconnect()

    run(scenario)


def test_a_reconnecting_page_gets_what_it_missed_and_a_long_absence_asks_for_a_refresh(settings):
    settings.LIVE_LAYER_SHARED = True
    project, other = ProjectFactory(), ProjectFactory()

    async def scenario():
        communicator = socket(project.owner)
        last = await connected(communicator)
        await communicator.disconnect()
        missed = [await service_change(project) for _ in range(3)]
        await service_change(other)  # not theirs

        again = socket(project.owner, f"?after={last}")
        ok, _ = await again.connect()
        assert ok
        got = [await again.receive_json_from(timeout=3) for _ in range(4)]
        assert [m.get("event") for m in got[:3]] == missed
        assert got[3] == {"ready": missed[-1]}
        await again.disconnect()

        # The catch-up can also be asked for in a first message.
        by_message = socket(project.owner)
        await connected(by_message)
        await by_message.send_json_to({"after": missed[0]})
        assert [(await by_message.receive_json_from(timeout=3))["event"] for _ in range(2)] == missed[1:]
        await by_message.disconnect()

        await database_sync_to_async(
            lambda: ProjectEvent.objects.bulk_create(ProjectEvent(project=project, kind=KIND) for _ in range(201))
        )()
        stale = socket(project.owner, f"?after={last}")
        ok, _ = await stale.connect()
        assert await stale.receive_json_from(timeout=3) == {"refresh": "all"}
        await stale.disconnect()

    run(scenario)


def test_on_the_embedded_default_an_event_written_by_another_process_arrives(settings):
    settings.LIVE_LAYER_SHARED = False
    project = ProjectFactory()

    async def scenario():
        communicator = socket(project.owner)
        await connected(communicator)
        # A Celery worker process: the row is written, its publish goes to that process's own layer.
        event = await database_sync_to_async(ProjectEvent.objects.create)(project=project, kind=KIND)
        assert await events_within(communicator) == [{"project": project.id, "event": event.id, "kind": KIND}]
        await communicator.disconnect()

    run(scenario)


def test_a_membership_that_starts_while_connected_is_followed(settings):
    settings.LIVE_LAYER_SHARED = True
    project, newcomer = ProjectFactory(), UserFactory()

    async def scenario():
        from core.live import publish_to_user

        communicator = socket(newcomer)
        await connected(communicator)
        await database_sync_to_async(Membership.objects.create)(project=project, user=newcomer, role=Role.VIEWER)
        await database_sync_to_async(publish_to_user)(user_id=newcomer.id, kind="member_joined")
        assert await communicator.receive_json_from(timeout=3) == {"user_event": "member_joined"}
        event_id = await service_change(project)
        assert [m["event"] for m in await events_within(communicator)] == [event_id]
        await communicator.send_json_to({"ping": 7})
        assert await communicator.receive_json_from(timeout=3) == {"pong": 7}
        await communicator.disconnect()

    run(scenario)
