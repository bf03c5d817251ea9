"""How long a change takes to reach the other members' pages over the live WebSocket.

LIVE_EVENTS changes (photo descriptions, through projects.services, one after another in this
process's main thread) in a project of LIVE_CLIENTS members, each with a WebSocket open to ws/live/
on a real uvicorn server (photoagent.asgi, in a thread of this process, as `make run` serves it).
Measured: from the commit (the first on-commit callback) to each client's receipt of the event.

Channel layer: Redis (channels_redis pub/sub) when REDIS_URL, else redis://127.0.0.1:6379/12,
answers; otherwise the embedded default's in-memory layer (LIVE_LAYER=memory forces it).
Database: a fresh SQLite file under var/bench/live. One summary line:

    live: events=<n> clients=<m> median_ms=<x> p95_ms=<y> layer=<redis|memory>
"""

import os
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.processes import free_port, redis_answers, say  # noqa: E402

EVENTS = int(os.environ.get("LIVE_EVENTS", "200"))
CLIENTS = int(os.environ.get("LIVE_CLIENTS", "20"))
GAP_SECONDS = float(os.environ.get("LIVE_GAP_SECONDS", "0.05"))
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
WORK = ROOT / "var" / "bench" / "live"


def configure(work: Path = WORK) -> str:
    """The environment Django reads, before it is imported (a fresh database under `work`);
    returns the layer's name."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    redis_url = "" if os.environ.get("LIVE_LAYER") == "memory" else os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if redis_url and not redis_answers(redis_url):
        say(f"live: {redis_url} does not answer; the embedded in-memory layer")
        redis_url = ""
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "photoagent.settings.base",
            "DJANGO_ENV": "development",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "REDIS_URL": redis_url,
            "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
            "DATA_DIR": str(work),
            "ALLOWED_HOSTS": "127.0.0.1",
        }
    )
    return "redis" if redis_url else "memory"


def serve():
    """photoagent.asgi on a real uvicorn server in a thread of this process, as `make run` serves it;
    returns (server, port). Set `server.should_exit = True` to stop it."""
    import uvicorn

    from photoagent.asgi import application

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, port


def main() -> None:
    layer = configure()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import transaction
    from django.test import Client

    from accounts.models import User
    from projects import services
    from projects.models import Membership, Photo, Project, ProjectEvent, Role

    owner = User.objects.create_user(email="owner@bench.test", password="x" * 12)
    project = Project.objects.create(owner=owner, name="Live", trigger_word="LIVEBENCH")
    users = [owner]
    for n in range(1, CLIENTS):
        member = User.objects.create_user(email=f"member{n}@bench.test", password="x" * 12)
        Membership.objects.create(project=project, user=member, role=Role.EDITOR)
        users.append(member)
    stored = default_storage.save("bench/live.jpg", ContentFile(b"\xff\xd8\xff\xd9"))
    photo = Photo.objects.create(
        project=project,
        original=stored,
        training_image=stored,
        original_filename="live.jpg",
        format="JPEG",
        bytes=4,
        sha256="0" * 64,
        width=1600,
        height=1200,
        status=Photo.Status.READY,
    )
    cookies = []
    for user in users:
        client = Client()
        client.force_login(user)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}")

    server, port = serve()

    committed: dict[int, float] = {}
    received: dict[int, list[float]] = {}
    connected: list[int] = []
    done = threading.Event()

    def clients() -> None:
        import asyncio
        import json

        from websockets.asyncio.client import connect

        async def one(cookie: str) -> None:
            async with connect(
                f"ws://127.0.0.1:{port}/ws/live/",
                additional_headers={"Cookie": cookie},
                origin=f"http://127.0.0.1:{port}",
            ) as socket:
                json.loads(await socket.recv())  # {"ready": ...}
                connected.append(1)
                while not done.is_set():
                    try:
                        message = json.loads(await asyncio.wait_for(socket.recv(), 1))
                    except TimeoutError:
                        continue
                    if "event" in message:
                        received.setdefault(message["event"], []).append(time.perf_counter())

        async def all_clients() -> None:
            await asyncio.gather(*(one(cookie) for cookie in cookies))

        asyncio.run(all_clients())

    listening = threading.Thread(target=clients, daemon=True)
    listening.start()
    deadline = time.monotonic() + 60
    while len(connected) < CLIENTS:
        if time.monotonic() > deadline or not listening.is_alive():
            sys.exit(f"live: {len(connected)} of {CLIENTS} clients connected")
        time.sleep(0.05)
    say(f"live: {CLIENTS} clients connected to uvicorn on 127.0.0.1:{port}, layer {layer}; {EVENTS} changes")

    for n in range(EVENTS):
        before = ProjectEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        stamp: list[float] = []
        with transaction.atomic():
            transaction.on_commit(lambda stamp=stamp: stamp.append(time.perf_counter()))
            photo = services.photo_update_description(photo=photo, description=f"a mug, take {n}")
            event = ProjectEvent.objects.filter(project=project, id__gt=before).order_by("id").first()
            if event is None:  # a service that records no event yet: the change's event, as it would
                from projects.events import event_record

                event = event_record(project_id=project.id, kind=ProjectEvent.Kind.PHOTO_DESCRIBED, photo=photo.id)
        committed[event.id] = stamp[0]
        time.sleep(GAP_SECONDS)

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sum(len(received.get(i, [])) for i in committed) < EVENTS * CLIENTS:
        time.sleep(0.1)
    done.set()
    latencies = sorted((at - committed[i]) * 1000 for i in committed for at in received.get(i, []))
    lost = EVENTS * CLIENTS - len(latencies)
    server.should_exit = True
    if not latencies:
        sys.exit("live: no event reached a client")
    median = statistics.median(latencies)
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    if lost:
        say(f"live: {lost} of {EVENTS * CLIENTS} deliveries did not arrive within 10 s")
    print(f"live: events={EVENTS} clients={CLIENTS} median_ms={median:.1f} p95_ms={p95:.1f} layer={layer}", flush=True)
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
