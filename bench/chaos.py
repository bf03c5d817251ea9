"""Crash and fault tolerance: the whole pipeline, many times, while workers die and providers fail.

Each run: a user uploads 15 photos (processed by the workers), describes them, waits for the
readiness checklist, trains on Replicate (the LoRA published to the Hub, the owner emailed through
SendGrid) and, when the training succeeded, generates 1-4 images that the library analyses.

Meanwhile:
- a worker is killed with SIGKILL every 1-3 s: one of its pool processes (Celery re-delivers
  that message) or the whole worker with its pool (its messages stay unacknowledged; the
  reconcile tasks re-drive the work once its lease runs out), then started again; sometimes beat;
- Redis is killed and started empty every CHAOS_REDIS_RESTART_SECONDS: every queued message is lost;
- the provider stand-ins (bench/chaos_providers.py) fail CHAOS_FAULT_RATE of requests and webhooks.

Infrastructure: MariaDB (CHAOS_DATABASE_URL, default mysql://root@127.0.0.1:3306/photoagent_chaos,
dropped and created), a private redis-server on a free port, gunicorn for the webhooks, two
workers (default+training, generation+library) and beat, all real processes with production
settings (DJANGO_ENV=production) and the timings shortened through their settings.

Invariants, from the database, the storage and the stand-ins' own logs: every run and job is
terminal and matches what the provider did; no training, prediction, Hub commit or email twice;
every image the provider made is stored once and analysed; no file is missing, and none is left
unreferenced once the product's storage sweep has run.

Last line: chaos: kills=<n> faults=<n> runs=<n> duplicates=<n> lost=<n> stuck=<n>
Targets: kills >= CHAOS_MIN_KILLS (100), duplicates=0, lost=0, stuck=0.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import os  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import timedelta  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from bench.processes import celery_command, free_port, redis_answers  # noqa: E402

RUNS = int(os.environ.get("CHAOS_RUNS", "30"))
PARALLEL = int(os.environ.get("CHAOS_PARALLEL", "6"))
MIN_KILLS = int(os.environ.get("CHAOS_MIN_KILLS", "100"))
FAULT_RATE = float(os.environ.get("CHAOS_FAULT_RATE", "0.2"))
SEED = int(os.environ.get("CHAOS_SEED", str(int(time.time()))))
REDIS_RESTART_SECONDS = float(os.environ.get("CHAOS_REDIS_RESTART_SECONDS", "75"))
RUN_TIMEOUT = float(os.environ.get("CHAOS_RUN_TIMEOUT", "900"))
SETTLE_SECONDS = float(os.environ.get("CHAOS_SETTLE_SECONDS", "240"))
DATABASE_URL = os.environ.get("CHAOS_DATABASE_URL", "mysql://root@127.0.0.1:3306/photoagent_chaos")
WORK = ROOT / "var" / "bench" / "chaos"
SITE_HOST = "chaos.photoagent.test"
REPLICATE_TIMEOUT = 3.0
WAIT_SECONDS = 1


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# Processes
# ------------------------------------------------------------------------------


class Process:
    """A restartable subprocess in its own process group, logging to WORK/<name>.log."""

    def __init__(self, name: str, argv: list[str], env: dict):
        self.name, self.argv, self.env = name, argv, env
        self.popen: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        log = (WORK / f"{self.name}.log").open("ab")
        self.popen = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.starts += 1

    def children(self) -> list[int]:
        if self.popen is None:
            return []
        try:
            listed = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in listed]

    def kill(self) -> None:
        """SIGKILL the process and everything it started, and reap it."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait()

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


class PrivateRedis:
    """A redis-server on a fixed free port that keeps nothing: a restart loses every message."""

    def __init__(self):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            sys.exit("chaos: redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if redis_answers(self.url):
                return
            time.sleep(0.05)
        sys.exit(f"chaos: could not start redis-server on port {self.port}")

    def restart(self) -> None:
        self.process.kill()
        self.process.wait()
        time.sleep(random.uniform(0.5, 3.0))
        self.start()
        self.restarts += 1

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


# Setup
# ------------------------------------------------------------------------------


def fresh_database() -> None:
    import MySQLdb

    url = urlsplit(DATABASE_URL)
    name = url.path.lstrip("/")
    try:
        connection = MySQLdb.connect(
            host=url.hostname, port=url.port or 3306, user=url.username or "root", passwd=url.password or ""
        )
    except MySQLdb.Error as error:
        sys.exit(f"chaos: MariaDB at {url.hostname}:{url.port} does not answer ({error}); set CHAOS_DATABASE_URL")
    cursor = connection.cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    connection.close()


def chaos_env(redis: PrivateRedis, replicate, hub, sendgrid) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "photoagent.settings.base",
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": f"{SITE_HOST},127.0.0.1",
            "SITE_URL": f"https://{SITE_HOST}",
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": redis.url,
            "DATA_DIR": str(WORK / "data"),
            "AWS_STORAGE_BUCKET_NAME": "",
            "LOG_LEVEL": "WARNING",
            "REPLICATE_API_TOKEN": "r8_standin",
            "REPLICATE_OWNER": "chaos",
            "REPLICATE_BASE_URL": replicate.url,
            "REPLICATE_TIMEOUT": str(REPLICATE_TIMEOUT),
            "REPLICATE_GENERATION_WAIT_SECONDS": str(WAIT_SECONDS),
            "HF_TOKEN": "hf_standin",
            "HF_ENDPOINT": hub.url,
            "HF_NAMESPACE": "chaos",
            "GENERATION_BASE_BACKEND": "generation.backends.replicate.ReplicateGenerationBackend",
            "SENDGRID_API_KEY": "SG.chaos-standin",
            "SENDGRID_API_HOST": sendgrid.url,
            "EMAIL_TIMEOUT": str(int(REPLICATE_TIMEOUT)),
            "TRAINING_POLL_SECONDS": "3",
            "GENERATION_POLL_SECONDS": "2",
            "TRAINING_SUBMIT_TIME_LIMIT": "45",
            "TRAINING_PUBLISH_TIME_LIMIT": "45",
            "EMAIL_TASK_TIME_LIMIT": "20",
            "GENERATION_SUBMIT_TIME_LIMIT": "30",
            "PROVIDER_RETRY_BACKOFF_MAX": "8",
            "REDRIVE_AFTER_SECONDS": "20",
            "TRAINING_RUNS_PER_DAY": "100000",
            "TRAINING_MONTHLY_SPEND": "1000000",
            "GENERATION_CONCURRENT_JOBS": "100",
            "GENERATION_IMAGES_PER_DAY": "100000",
            "GENERATION_MONTHLY_SPEND": "1000000",
            "PHOTO_MIN_SIDE": "512",
        }
    )
    return env


def processes_for(env: dict, web_port: int) -> dict[str, Process]:
    celery = [*celery_command(), "-A", "photoagent"]
    worker = [*celery, "worker", "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--concurrency=2"]
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    return {
        "web": Process(
            "web",
            [gunicorn, "photoagent.wsgi:application", "-b", f"127.0.0.1:{web_port}", "-w", "2", "--threads", "4"],
            env,
        ),
        "worker-training": Process("worker-training", [*worker, "-Q", "default,training", "-n", "training@%h"], env),
        "worker-generation": Process(
            "worker-generation", [*worker, "-Q", "generation,library", "-n", "generation@%h"], env
        ),
        # At INFO, beat logs each reconcile it sends: the trace of what re-drove stalled work.
        "beat": Process("beat", [*celery, "beat", "-s", str(WORK / "beat-schedule")], {**env, "LOG_LEVEL": "INFO"}),
    }


# The pipeline, as a user drives it
# ------------------------------------------------------------------------------


class Drive:
    def __init__(self):
        self.lock = threading.Lock()
        self.launched = 0
        self.finished = 0
        self.errors: list[str] = []
        self.timeouts: list[str] = []

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def wait_for(predicate, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def pipeline(number: int, drive: Drive) -> None:
    from django.db import connection

    from accounts.models import User
    from generation.models import Generation
    from generation.services import generation_create
    from projects import selectors as project_selectors
    from projects import services as project_services
    from projects.models import Photo, Project
    from projects.tests.factories import photo_upload
    from training.models import TrainingRun
    from training.services import training_start

    try:
        user = User.objects.create_user(f"chaos-{number}@chaos.test", password=None)
        project = project_services.project_create(owner=user, name=f"Mug {number}", category=Project.Category.PRODUCT)
        files = [photo_upload(1000 * number + seed, size=(720, 640)) for seed in range(15)]
        result = project_services.photo_upload(project=project, files=files)
        if result.rejected:
            drive.error(f"run {number}: photos rejected: {result.rejected}")
        for photo in Photo.objects.filter(project=project):
            project_services.photo_update_description(photo=photo, description=f"a blue mug number {number}")

        def ready() -> bool:
            return project_selectors.project_readiness(project=Project.objects.get(id=project.id)).ready

        if not wait_for(ready, RUN_TIMEOUT, 1.0):
            drive.timeouts.append(f"run {number}: project never became ready")
            return
        run = training_start(project=Project.objects.get(id=project.id), preset=TrainingRun.Preset.FAST)
        if not wait_for(lambda: TrainingRun.objects.get(id=run.id).is_terminal, RUN_TIMEOUT, 1.0):
            drive.timeouts.append(f"run {number}: training {run.id} not terminal")
            return
        run.refresh_from_db()
        if run.status != TrainingRun.Status.SUCCEEDED:
            return
        job = generation_create(
            user=user,
            training_run=run,
            prompt=f"a photo of the mug on a beach, run {number}",
            num_outputs=1 + number % 4,
            seed=5000 + number,
        )
        if not wait_for(lambda: Generation.objects.get(id=job.id).status in Generation.TERMINAL, RUN_TIMEOUT, 1.0):
            drive.timeouts.append(f"run {number}: generation {job.id} not terminal")
    except Exception:  # noqa: BLE001 - a user's request failing is a finding, reported at the end
        drive.error(f"run {number}: {traceback.format_exc(limit=4)}")
    finally:
        connection.close()
        with drive.lock:
            drive.finished += 1


# Chaos
# ------------------------------------------------------------------------------


EXITS = Counter()


def restart_exited(processes: dict[str, Process]) -> None:
    """Supervise as docker compose's `restart: unless-stopped` does: start what exited by itself.

    (kombu 5.7's Redis transport ends the worker with "Unrecoverable error" when Redis goes away
    while it holds unacknowledged messages.)
    """
    for name, process in processes.items():
        if process.popen is not None and process.popen.poll() is not None:
            EXITS[name] += 1
            process.start()


class Killer(threading.Thread):
    """SIGKILLs a worker's pool process, a whole worker, or beat, every 1-3 s; restarts what died."""

    def __init__(self, processes: dict[str, Process], rng: random.Random):
        super().__init__(daemon=True)
        self.processes = processes
        self.random = rng
        self.kills = Counter()
        self.stopped = threading.Event()

    @property
    def total(self) -> int:
        return sum(self.kills.values())

    def run(self) -> None:
        while not self.stopped.wait(self.random.uniform(1.0, 3.0)):
            restart_exited(self.processes)
            roll = self.random.random()
            name = "beat" if roll < 0.04 else self.random.choice(["worker-training", "worker-generation"])
            process = self.processes[name]
            children = process.children()
            if name != "beat" and roll < 0.7 and children:
                try:
                    os.kill(self.random.choice(children), signal.SIGKILL)
                except ProcessLookupError:
                    continue
                self.kills[f"{name} pool process"] += 1
                continue
            process.kill()
            self.kills[f"{name} (whole)"] += 1
            process.start()


class RedisRestarter(threading.Thread):
    def __init__(self, redis: PrivateRedis):
        super().__init__(daemon=True)
        self.redis = redis
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(REDIS_RESTART_SECONDS):
            self.redis.restart()
            say(f"redis restarted (queue lost), {self.redis.restarts} so far")


# Invariants
# ------------------------------------------------------------------------------


def stored_files() -> set[str]:
    media = WORK / "data" / "media"
    return {str(path.relative_to(media)) for path in media.rglob("*") if path.is_file() and "users" in path.parts}


def referenced_files() -> set[str]:
    from generation.models import GeneratedImage
    from projects.models import Photo
    from training.models import TrainingRun

    names = set()
    for queryset, fields in (
        (Photo.objects.all(), ("original", "training_image", "thumbnail", "preview")),
        (TrainingRun.objects.all(), ("dataset", "lora_file")),
        (GeneratedImage.objects.all(), ("file", "thumbnail")),
    ):
        for row in queryset.values_list(*fields):
            names.update(name for name in row if name)
    return names


def background_settled() -> bool:
    from generation.models import GeneratedImage, Generation
    from library.models import LibraryItem
    from projects.models import Photo
    from training.models import TrainingRun

    return not (
        Photo.objects.filter(status=Photo.Status.PROCESSING).exists()
        or TrainingRun.objects.filter(status__in=TrainingRun.ACTIVE).exists()
        or TrainingRun.objects.filter(
            status__in=[TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED], notified_at__isnull=True
        ).exists()
        or Generation.objects.filter(status__in=Generation.ACTIVE).exists()
        or LibraryItem.objects.filter(status=LibraryItem.Status.PENDING).exists()
        or Photo.objects.filter(status=Photo.Status.READY, library_item__isnull=True).exists()
        or GeneratedImage.objects.filter(library_item__isnull=True).exists()
    )


def check(replicate, hub, sendgrid) -> tuple[Counter, Counter, Counter, list[str]]:
    """(duplicates, lost, stuck) by kind, and one line per finding."""
    from generation.models import GeneratedImage, Generation
    from library.models import LibraryItem
    from projects.models import Photo
    from training.models import TrainingRun

    duplicates, lost, stuck, findings = Counter(), Counter(), Counter(), []

    def finding(counter: Counter, kind: str, message: str) -> None:
        counter[kind] += 1
        findings.append(message)

    expected = {"succeeded": "succeeded", "failed": "failed", "aborted": "failed", "canceled": "canceled"}
    for run in TrainingRun.objects.select_related("project__owner"):
        destination = f"chaos/photoagent-{run.project.owner_id}-{run.project_id}"
        created = replicate.trainings_by_destination[destination]
        if created > 1:
            finding(duplicates, "training", f"run {run.id}: {created} trainings created at the provider")
        if not run.is_terminal:
            finding(stuck, "training", f"run {run.id}: still {run.status}")
            continue
        provider = replicate.outcome(run.provider_training_id) if run.provider_training_id else "never created"
        if expected.get(provider, "failed") != run.status:
            finding(lost, "training", f"run {run.id}: {run.status}, the provider says {provider} ({run.error})")
        if run.status == TrainingRun.Status.SUCCEEDED:
            commits = hub.commits_by_title()[f"PhotoAgent LoRA (run-{run.id})"]
            if commits != 1:
                finding(duplicates if commits > 1 else lost, "hub commit", f"run {run.id}: {commits} Hub commits")
        mails = sum(count for (to, _), count in sendgrid.accepted.items() if to == run.project.owner.email)
        wanted = 0 if run.status == TrainingRun.Status.CANCELED else 1
        if mails != wanted:
            finding(duplicates if mails > wanted else lost, "email", f"run {run.id}: {mails} emails, wanted {wanted}")
    for job in Generation.objects.all():
        created = replicate.predictions_by_input[(job.prompt, job.seed)]
        if created > 1:
            finding(duplicates, "prediction", f"job {job.id}: {created} predictions created")
        if not job.is_terminal:
            finding(stuck, "generation", f"job {job.id}: still {job.status}")
            continue
        provider = replicate.outcome(job.provider_id) if job.provider_id else "never created"
        if expected.get(provider, "failed") != job.status:
            finding(lost, "generation", f"job {job.id}: {job.status}, the provider says {provider} ({job.error})")
        stored = job.images.count()
        if job.status == Generation.Status.SUCCEEDED and stored != job.num_outputs:
            finding(lost, "image", f"job {job.id}: {stored} of {job.num_outputs} images stored ({job.error})")
    for photo in Photo.objects.filter(status=Photo.Status.PROCESSING):
        finding(stuck, "photo", f"photo {photo.id}: still processing")
    for photo in Photo.objects.filter(status=Photo.Status.READY, library_item__isnull=True):
        finding(lost, "library item", f"photo {photo.id}: not in the library")
    for image in GeneratedImage.objects.filter(library_item__isnull=True):
        finding(lost, "library item", f"image {image.id}: not in the library")
    for item in LibraryItem.objects.exclude(status=LibraryItem.Status.DONE):
        finding(stuck, "analysis", f"library item {item.id}: {item.status} {item.error}")
    return duplicates, lost, stuck, findings


# The run
# ------------------------------------------------------------------------------


def main() -> int:
    from bench.chaos_providers import Faults, HubChaos, ReplicateChaos, SendGridChaos, Webhooks

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    rng = random.Random(SEED)
    faults = Faults(FAULT_RATE, SEED)
    web_port = free_port()
    webhooks = Webhooks(faults, f"http://127.0.0.1:{web_port}", SITE_HOST)
    replicate = ReplicateChaos(faults, webhooks, client_timeout=REPLICATE_TIMEOUT + WAIT_SECONDS)
    hub = HubChaos(faults)
    sendgrid = SendGridChaos(faults, client_timeout=REPLICATE_TIMEOUT)
    for server in (replicate, hub, sendgrid):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    redis = PrivateRedis()
    redis.start()
    fresh_database()
    env = chaos_env(redis, replicate, hub, sendgrid)
    os.environ.update(env)
    say(f"seed {SEED}; fault rate {FAULT_RATE:.0%}; database {DATABASE_URL}; redis {redis.url}; work {WORK}")

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    processes = processes_for(env, web_port)
    for process in processes.values():
        process.start()
    killer = Killer(processes, rng)
    restarter = RedisRestarter(redis)
    try:
        return run(processes, killer, restarter, redis, faults, webhooks, replicate, hub, sendgrid)
    finally:
        killer.stopped.set()
        restarter.stopped.set()
        for process in processes.values():
            process.stop()
        redis.stop()
        webhooks.stopped.set()
        replicate.stopped.set()


def run(processes, killer, restarter, redis, faults, webhooks, replicate, hub, sendgrid) -> int:
    from core.storage import storage_sweep

    time.sleep(8)  # the workers' first start
    say(f"pipeline: {RUNS} runs, {PARALLEL} at a time; killing workers every 1-3 s")
    killer.start()
    restarter.start()
    drive = Drive()
    started = time.monotonic()
    threads: list[threading.Thread] = []
    number = 0
    last_report = 0.0
    while True:
        threads = [thread for thread in threads if thread.is_alive()]
        enough = number >= RUNS and killer.total >= MIN_KILLS
        if enough and not threads:
            break
        if not enough and len(threads) < PARALLEL:
            number += 1
            thread = threading.Thread(target=pipeline, args=(number, drive), daemon=True)
            thread.start()
            threads.append(thread)
            drive.launched = number
        if time.monotonic() - last_report > 20:
            last_report = time.monotonic()
            say(
                f"runs {drive.finished}/{drive.launched} done; kills {killer.total}; faults {faults.total}; "
                f"redis restarts {redis.restarts}; {time.monotonic() - started:.0f} s"
            )
        time.sleep(0.5)
    killer.stopped.set()
    restarter.stopped.set()
    killer.join()
    restarter.join()
    restart_exited(processes)
    say(f"pipeline done after {time.monotonic() - started:.0f} s; settling (no more kills or faults)")
    faults.rate = 0.0
    settled = wait_for(lambda: restart_exited(processes) or background_settled(), SETTLE_SECONDS, 2.0)
    say("background work settled" if settled else f"background work still moving after {SETTLE_SECONDS:.0f} s")

    orphans_before = stored_files() - referenced_files()
    swept = storage_sweep(older_than=timedelta(0))
    orphans = stored_files() - referenced_files()
    missing = referenced_files() - stored_files()
    duplicates, lost, stuck, findings = check(replicate, hub, sendgrid)
    for name in missing:
        lost["file"] += 1
        findings.append(f"file missing from storage: {name}")
    for name in orphans:
        duplicates["orphan file"] += 1
        findings.append(f"orphan file after the sweep: {name}")
    for message in findings[:40]:
        say(f"finding: {message}")
    for message in drive.errors[:10] + drive.timeouts[:10]:
        say(f"driver: {message}")
    stuck["driver timeouts"] += len(drive.timeouts)
    lost["driver errors"] += len(drive.errors)

    from generation.models import GeneratedImage, Generation
    from training.models import TrainingRun

    say(f"kills: {dict(killer.kills)}; redis restarts: {redis.restarts}; exits restarted: {dict(EXITS)}")
    say(f"faults: {dict(sorted(faults.injected.items()))}")
    say(f"webhook deliveries by answer: {dict(webhooks.sent)}")
    say(
        "runs by status: "
        + str(Counter(TrainingRun.objects.values_list("status", flat=True)))
        + "; jobs by status: "
        + str(Counter(Generation.objects.values_list("status", flat=True)))
        + f"; images {GeneratedImage.objects.count()}"
    )
    say(f"storage: {len(orphans_before)} unreferenced files before the sweep, {len(swept)} swept, {len(orphans)} left")
    say(f"duplicates {dict(duplicates)}; lost {dict(lost)}; stuck {dict(stuck)}")
    total = {name: sum(counter.values()) for name, counter in (("d", duplicates), ("l", lost), ("s", stuck))}
    print(
        f"chaos: kills={killer.total} faults={faults.total} runs={drive.launched} "
        f"duplicates={total['d']} lost={total['l']} stuck={total['s']}",
        flush=True,
    )
    return 0 if killer.total >= MIN_KILLS and not any(total.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
