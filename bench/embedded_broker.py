"""The embedded default's broker under a realistic burst: how long do messages wait?

`make run` has no Redis: Celery runs on kombu's filesystem transport in DATA_DIR. This starts the
two workers exactly as Procfile.dev does (on a private DATA_DIR and SQLite file), then sends what
11 projects of 15 photos produce in a few minutes of use: each photo processed, added to the
library and analysed (its analysis asked for again when its description is saved, through the
product's own request, which must not queue a copy), and the polls of 11 trainings and 11
generations. The tasks find no rows for the ids they are given (except the library items), so
they return at once: what is measured is the broker, not the work.

Last line: embedded-broker: messages=<n> drained_in=<s>s p95_wait=<s>s duplicates=<n>
Target: p95_wait and drained_in of a few seconds, duplicates=0.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import math  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime  # noqa: E402

from bench.processes import say  # noqa: E402

PROJECTS = int(os.environ.get("EMBEDDED_PROJECTS", "11"))
PHOTOS = int(os.environ.get("EMBEDDED_PHOTOS", "15"))
TIMEOUT = float(os.environ.get("EMBEDDED_TIMEOUT_SECONDS", "900"))
MISSING = 10**12  # ids no row has
RECEIVED = re.compile(r"^(\S+ \S+) INFO celery\.worker\.strategy: Task (\S+)\[([0-9a-f-]+)\] received")


def procfile_workers() -> dict[str, list[str]]:
    """The worker commands of Procfile.dev, as `make run` starts them."""
    commands = {}
    for line in (ROOT / "Procfile.dev").read_text().splitlines():
        name, _, command = line.partition(":")
        if "celery" in command and " worker " in command:
            argv = shlex.split(command.strip())
            argv[0] = str(ROOT / argv[0])
            commands[name.strip()] = argv
    return commands


def worker_env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "photoagent.settings.base",
            "DATA_DIR": str(data_dir),
            "ENV_FILE": "",  # the embedded default itself, not a developer's .env
            "LOG_LEVEL": "INFO",  # the "Task ... received" lines carry the times
            "LOG_FORMAT": "plain",
        }
    )
    return env


def received_times(logs: list[Path]) -> dict[str, float]:
    times = {}
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            match = RECEIVED.search(line.split("| ", 1)[-1])
            if match:
                # The workers log in this machine's local time, as time.time() is read here.
                stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()  # noqa: DTZ007
                times[match.group(3)] = stamp
    return times


def stop(processes: list) -> None:
    """SIGTERM to each worker's process group (the worker and its pool), SIGKILL after 10 s."""
    for _, process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for _, process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="embedded-broker-"))
    env = worker_env(data_dir)
    os.environ.update(env)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )

    import django

    django.setup()
    from celery.signals import after_task_publish
    from django.utils import timezone

    from accounts.tests.factories import UserFactory
    from generation.tasks import sync_generation
    from library import services as library_services
    from library.models import LibraryItem
    from library.tasks import add_photo
    from photoagent.celery import app
    from projects.tasks import process_photo
    from training.tasks import sync_training

    published: dict[str, tuple[str, float]] = {}

    def note(sender=None, headers=None, **kwargs):
        published[headers["id"]] = (headers["task"], time.time())

    after_task_publish.connect(note, weak=False)

    user = UserFactory()
    items = [
        LibraryItem.objects.create(user=user, kind=LibraryItem.Kind.PHOTO, created_at=timezone.now())
        for _ in range(PROJECTS * PHOTOS)
    ]

    processes, logs = [], []
    try:
        for name, argv in procfile_workers().items():
            log = data_dir / f"{name}.log"
            logs.append(log)
            processes.append(
                (
                    f"worker {name}",
                    subprocess.Popen(
                        argv, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
                    ),
                )
            )
        deadline = time.monotonic() + 60
        while not all("ready." in log.read_text(errors="replace") for log in logs if log.exists()):
            if time.monotonic() > deadline:
                sys.exit(f"bench: the workers did not start; see {data_dir}")
            time.sleep(0.2)
        say(f"embedded-broker: {len(processes)} workers as in Procfile.dev; sending the burst")

        started = time.time()
        for project in range(PROJECTS):
            for photo in range(PHOTOS):
                item = items[project * PHOTOS + photo]
                process_photo.delay(MISSING)
                add_photo.delay(MISSING)
                # Asked when the photo is added, and again when its description is saved.
                library_services.item_request_analysis(item_id=item.id)
                library_services.item_request_analysis(item_id=item.id)
            for _ in range(3):
                sync_training.delay(MISSING)
                sync_generation.delay(MISSING)
        sent_in = time.time() - started

        waits: dict[str, float] = {}
        received: dict[str, float] = {}
        deadline = time.monotonic() + TIMEOUT
        while len(waits) < len(published) and time.monotonic() < deadline:
            time.sleep(0.5)
            received = received_times(logs)
            waits = {task_id: received[task_id] - at for task_id, (_, at) in published.items() if task_id in received}
        drained_in = max((received[task_id] for task_id in waits), default=started) - started
        analyses = [task for task, _ in published.values() if task == "library.analyse_item"]
        duplicates = len(analyses) - len(items)
        lost = len(published) - len(waits)
        say(f"embedded-broker: sent {len(published)} messages in {sent_in:.1f}s; {lost} not received in time")
        p95 = percentile(list(waits.values()), 0.95) if waits else float("inf")
        say(
            f"embedded-broker: messages={len(published)} drained_in={drained_in:.1f}s p95_wait={p95:.1f}s "
            f"duplicates={duplicates}"
        )
        app.close()
    finally:
        stop(processes)


if __name__ == "__main__":
    main()
