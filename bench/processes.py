"""What the benchmarks that run real services share: Redis, Celery workers and stopping them all.

Each started process goes into a `processes` list of (name, Popen); `stop()` ends them newest first.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent


def say(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def private_redis(processes: list, db: int) -> str:
    """Start redis-server on a free port (no persistence); its process is stopped with the others."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("bench: Redis is not reachable and redis-server is not installed; set REDIS_URL or install Redis")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    processes.append(("redis-server", process))
    url = f"redis://127.0.0.1:{port}/{db}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if redis_answers(url):
            return url
        if process.poll() is not None:
            break
        time.sleep(0.1)
    sys.exit(f"bench: could not start redis-server on port {port}")


def redis_for(processes: list, url: str) -> str:
    """`url` when it answers, else a private redis-server; either way flushed."""
    if not redis_answers(url):
        say(f"redis: {url} does not answer; starting a private redis-server")
        url = private_redis(processes, db=int(url.rsplit("/", 1)[-1] or 0))
    redis.Redis.from_url(url).flushdb()
    return url


def django_env(*, redis_url: str, database_url: str, data_dir: Path) -> dict:
    """This environment with what every benchmark's Django processes share: production-like
    (DEBUG off), quiet, on the given broker and database, every local file under `data_dir`."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "photoagent.settings.base",
            "DJANGO_ENV": "development",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "REDIS_URL": redis_url,
            "DATABASE_URL": database_url,
            # Media (MEDIA_ROOT is DATA_DIR/media) and every other local file of the run.
            "DATA_DIR": str(data_dir),
        }
    )
    return env


def celery_command() -> list[str]:
    beside = Path(sys.executable).parent / "celery"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "celery"]


def start_worker(
    *, name: str, queues: str, concurrency: int, env: dict, log: Path, processes: list, nice: int = 0
) -> None:
    process = subprocess.Popen(
        [
            *(["nice", "-n", str(nice)] if nice else []),
            *celery_command(),
            "-A",
            "photoagent",
            "worker",
            "-Q",
            queues,
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{name}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        # Its own process group: Ctrl-C in the terminal reaches the bench, which stops it.
        start_new_session=True,
    )
    processes.append((f"worker {name}", process))


def wait_for_workers(app, processes: list, *, count: int, logs: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for name, process in processes:
            if process.poll() is not None:
                sys.exit(f"bench: {name} exited with {process.returncode}; see {logs}")
        replies = app.control.ping(timeout=1.0) or []
        if len(replies) >= count:
            return
    sys.exit(f"bench: workers did not answer within 60 s; see {logs}")


def stop(processes: list) -> None:
    """Warm shutdown (SIGTERM), then SIGKILL for whatever is still there; newest first."""
    for _, process in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for name, process in reversed(processes):
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            if name.startswith("worker"):
                os.killpg(process.pid, signal.SIGKILL)  # the worker and its pool children
            else:
                process.kill()
            process.wait()
