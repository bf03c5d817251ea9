"""Push 500 generation jobs through real Celery workers on Redis against a zero-latency provider.

Broker: REDIS_URL, else redis://127.0.0.1:6379/14 (flushed first); when neither answers, a
private redis-server on a free port. Database: a fresh SQLite file under var/bench/queue, or
BENCH_DATABASE_URL (jobs are counted for the bench's own user only). Workers: one
`celery -A photoagent worker -Q generation --concurrency=2` subprocess (BENCH_WORKERS for more),
no beat, so a lost message stays lost instead of being re-driven by the reconcile task.
Provider: a threaded stand-in speaking enough of Replicate's API for the real client; every
prediction succeeds at once with one tiny WebP per output.

Last line: queue: jobs=500 lost=<n> duplicated=<n> jobs_per_s=<x> overhead_ms=<median worker time per job>
Targets: lost=0, duplicated=0, overhead_ms <= 30.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

import redis  # noqa: E402
from PIL import Image  # noqa: E402

from bench.processes import django_env, redis_for, say, start_worker, stop, wait_for_workers  # noqa: E402

JOBS = int(os.environ.get("BENCH_JOBS", "500"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
CONCURRENCY = 2
TIMEOUT_SECONDS = float(os.environ.get("BENCH_TIMEOUT", "600"))
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
WORK = ROOT / "var" / "bench" / "queue"
TOKEN = "r8_bench"
MODEL = "black-forest-labs/flux-dev-lora"
TARGET_OVERHEAD_MS = 30


# The stand-in provider
# ------------------------------------------------------------------------------


def tiny_webp() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 120, 40)).save(buffer, "WEBP", quality=80)
    return buffer.getvalue()


class ReplicateStandIn(ThreadingHTTPServer):
    """Predictions that succeed the moment they are created, their outputs, list and cancel."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.image = tiny_webp()
        self.predictions: dict[str, dict] = {}
        # (prompt, seed) -> predictions created for it: more than one is a duplicate submission.
        self.created = Counter()
        self.downloads = Counter()
        self.cancels = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def create(self, model: str, version: str | None, data: dict) -> dict:
        prediction_id = uuid.uuid4().hex[:20]
        count = int(data.get("num_outputs") or 1)
        extension = data.get("output_format") or "webp"
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        prediction = {
            "id": prediction_id,
            "model": model,
            "version": version or "dp-" + "0" * 32,
            "status": "succeeded",
            "input": data,
            "output": [f"{self.url}/files/{prediction_id}/out-{index}.{extension}" for index in range(count)],
            "error": None,
            "logs": "",
            "data_removed": False,
            "source": "api",
            "created_at": now,
            "started_at": now,
            "completed_at": now,
            "metrics": {"predict_time": 0.0},
            "urls": {
                "get": f"{self.url}/v1/predictions/{prediction_id}",
                "cancel": f"{self.url}/v1/predictions/{prediction_id}/cancel",
                "stream": f"{self.url}/v1/predictions/{prediction_id}/stream",
                "web": f"https://replicate.com/p/{prediction_id}",
            },
        }
        with self.lock:
            self.predictions[prediction_id] = prediction
            self.created[(data.get("prompt"), data.get("seed"))] += 1
        return prediction


class _Handler(BaseHTTPRequestHandler):
    server: ReplicateStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status: int, payload=None, *, raw: bytes | None = None, content_type="application/json"):
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self):
        self._send(404, {"title": "Not found", "detail": "Not found", "status": 404})

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else {}

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {TOKEN}":
            return True
        self._send(401, {"title": "Unauthenticated", "detail": "You did not pass a valid token", "status": 401})
        return False

    def do_GET(self):  # noqa: N802
        server = self.server
        path = self.path.split("?", 1)[0]
        if match := re.fullmatch(r"/files/(\w+)/out-\d+\.\w+", path):
            if match.group(1) not in server.predictions:
                return self._not_found()
            with server.lock:
                server.downloads[path] += 1
            return self._send(200, raw=server.image, content_type="image/webp")
        if not self._authorized():
            return None
        if match := re.fullmatch(r"/v1/predictions/(\w+)", path):
            prediction = server.predictions.get(match.group(1))
            return self._send(200, prediction) if prediction else self._not_found()
        if path == "/v1/predictions":
            with server.lock:
                results = list(server.predictions.values())[::-1]
            return self._send(200, {"next": None, "previous": None, "results": results})
        return self._not_found()

    def do_POST(self):  # noqa: N802
        server = self.server
        path = self.path.split("?", 1)[0]
        body = self._body()
        if not self._authorized():
            return None
        if match := re.fullmatch(r"/v1/models/([^/]+/[^/]+)/predictions", path):
            return self._send(201, server.create(match.group(1), None, body.get("input") or {}))
        if path == "/v1/predictions":
            return self._send(201, server.create(MODEL, body.get("version"), body.get("input") or {}))
        if match := re.fullmatch(r"/v1/predictions/(\w+)/cancel", path):
            prediction = server.predictions.get(match.group(1))
            if prediction is None:
                return self._not_found()
            with server.lock:
                server.cancels += 1
            return self._send(200, prediction)  # already succeeded: cancel changes nothing
        return self._not_found()


# Workers
# ------------------------------------------------------------------------------


def start_workers(env: dict, processes: list) -> None:
    for number in range(1, WORKERS + 1):
        start_worker(
            name=f"bench-queue-{number}",
            queues="generation",
            concurrency=CONCURRENCY,
            env=env,
            log=WORK / f"worker-{number}.log",
            processes=processes,
        )


def queued_messages(broker: redis.Redis) -> int:
    # Unacked (reserved) messages sit in kombu's `unacked` hash until the worker acks them.
    return broker.llen("generation") + broker.hlen("unacked")


# The run
# ------------------------------------------------------------------------------


def bench_env(redis_url: str, standin: ReplicateStandIn) -> dict:
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{WORK / 'db.sqlite3'}"
    env = django_env(redis_url=redis_url, database_url=database_url, data_dir=WORK / "data")
    env.update(
        {
            "AWS_STORAGE_BUCKET_NAME": "",
            "SITE_URL": "http://127.0.0.1:8000",  # not https: no webhooks, as on a laptop
            "REPLICATE_API_TOKEN": TOKEN,
            "REPLICATE_OWNER": "bench",
            "REPLICATE_BASE_URL": standin.url,
            "REPLICATE_GENERATION_MODEL": MODEL,
            "HF_TOKEN": "",
            "GENERATION_BACKEND": "generation.backends.replicate.ReplicateGenerationBackend",
            "GENERATION_BASE_BACKEND": "generation.backends.replicate.ReplicateGenerationBackend",
            "GENERATION_CONCURRENT_JOBS": str(JOBS * 10),
            "GENERATION_IMAGES_PER_DAY": str(JOBS * 40),
            "GENERATION_MONTHLY_SPEND": "1000000",
        }
    )
    return env


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    for stale in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"):
        (WORK / stale).unlink(missing_ok=True)
    shutil.rmtree(WORK / "data", ignore_errors=True)

    processes: list[tuple[str, subprocess.Popen]] = []
    standin = ReplicateStandIn()
    threading.Thread(target=standin.serve_forever, daemon=True).start()
    try:
        return run(standin, processes)
    finally:
        stop(processes)
        standin.shutdown()
        standin.server_close()


def run(standin: ReplicateStandIn, processes: list) -> int:
    redis_url = redis_for(processes, os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)
    broker = redis.Redis.from_url(redis_url)
    env = bench_env(redis_url, standin)
    os.environ.update(env)
    say(f"redis: {redis_url} (flushed); provider stand-in: {standin.url}; database: {env['DATABASE_URL']}")

    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import User
    from generation.models import GeneratedImage, Generation
    from generation.services import generation_create
    from photoagent.celery import app

    call_command("migrate", verbosity=0, interactive=False)
    start_workers(env, processes)
    wait_for_workers(app, processes, count=WORKERS, logs=WORK)
    say(f"workers: {WORKERS} x concurrency {CONCURRENCY} ready (queue generation)")

    user = User.objects.create_user(f"bench-queue-{uuid.uuid4().hex[:8]}@bench.invalid", password=None)
    jobs = Generation.objects.filter(user=user)
    started = time.perf_counter()
    for index in range(JOBS):
        # Distinct prompt and seed per job: that is how the stand-in attributes predictions to jobs.
        generation_create(
            user=user,
            training_run=None,
            prompt=f"bench job {index}: a lighthouse on a cliff at dusk",
            num_outputs=1,
            seed=1_000_000 + index,
        )
        if (index + 1) % 100 == 0:
            say(f"enqueued {index + 1}/{JOBS} in {time.perf_counter() - started:.1f} s")

    deadline = started + TIMEOUT_SECONDS
    last_report = 0.0
    while True:
        done = jobs.filter(status__in=Generation.TERMINAL).count()
        now = time.perf_counter()
        if done == JOBS or now > deadline:
            break
        if now - last_report >= 2:
            say(f"terminal {done}/{JOBS} after {now - started:.1f} s")
            last_report = now
        time.sleep(0.1)
    wall = time.perf_counter() - started
    if done < JOBS:
        say(f"timeout: {JOBS - done} job(s) still active after {TIMEOUT_SECONDS:.0f} s")
    say(f"terminal {done}/{JOBS} after {wall:.1f} s")

    # A job is terminal before its task returns: let the last tasks record their worker time (and
    # any redelivered message run) before counting.
    settle = time.monotonic() + 15
    while time.monotonic() < settle and queued_messages(broker):
        time.sleep(0.1)
    time.sleep(1.0)

    rows = list(jobs.values_list("id", "prompt", "seed", "status", "num_outputs", "worker_ms"))
    images = Counter(GeneratedImage.objects.filter(generation__user=user).values_list("generation_id", flat=True))
    lost = sum(1 for _, _, _, status, _, _ in rows if status != Generation.Status.SUCCEEDED)
    duplicated = sum(
        1
        for job_id, prompt, seed, _, outputs, _ in rows
        if standin.created[(prompt, seed)] > 1 or images[job_id] > outputs
    )
    worker_ms = [row[5] for row in rows]
    overhead = statistics.median(worker_ms) if worker_ms else 0.0
    by_status = Counter(row[3] for row in rows)
    extra_downloads = sum(count - 1 for count in standin.downloads.values() if count > 1)
    say(
        f"jobs by status: {dict(sorted(by_status.items()))}; predictions created: {sum(standin.created.values())}; "
        f"images stored: {sum(images.values())}; repeated downloads: {extra_downloads}; cancels: {standin.cancels}"
    )
    if worker_ms:
        cuts = statistics.quantiles(worker_ms, n=20)
        say(f"worker ms per job: p5 {cuts[0]:.0f}, median {overhead:.0f}, p95 {cuts[-1]:.0f}")
    missed = []
    if lost:
        missed.append(f"lost={lost} (target 0)")
    if duplicated:
        missed.append(f"duplicated={duplicated} (target 0)")
    if overhead > TARGET_OVERHEAD_MS:
        missed.append(f"overhead_ms={overhead:.0f} (target <= {TARGET_OVERHEAD_MS})")
    if missed:
        say("targets missed: " + ", ".join(missed))
    say(
        f"queue: jobs={JOBS} lost={lost} duplicated={duplicated} "
        f"jobs_per_s={JOBS / wall:.1f} overhead_ms={overhead:.0f}"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
