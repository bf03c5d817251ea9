"""20 people using PhotoAgent at once for 3 minutes: gunicorn, uvicorn (live), MariaDB, Redis and
Celery on loopback, each person with the live pages' WebSocket open for the whole run.

Database: a fresh MariaDB/MySQL database, BENCH_DATABASE_URL or
mysql://root@127.0.0.1:3306/photoagent_load, created before and dropped after the run; when the
default does not answer, a private mariadbd on a free port with its data under var/bench/load.
Broker and cache: REDIS_URL, else redis://127.0.0.1:6379/13 (flushed first); when neither
answers, a private redis-server on a free port. Web: gunicorn with DEBUG=false, LOAD_WORKERS
gthread workers (cores + 1) x LOAD_THREADS (4) serving photoagent.wsgi, as the Dockerfile, with
whitenoise serving the bench's own collectstatic; the WebSockets on their own server, as
docker-compose's `live`: uvicorn (photoagent.asgi, LOAD_LIVE_WORKERS processes, 1), which the
pages name in LIVE_WEBSOCKET_URL. LOAD_WORKER_CLASS=uvicorn_worker.UvicornWorker serves both from
gunicorn's uvicorn workers (4 x cores + 1) instead, to compare. Background: the two Celery workers of `make run`
(default,training and generation,library) and beat, in demo mode (no provider token), at nice 10.
Files under var/bench/load. Seed: bench/load_seed.py (per user: a trained demo model, 21 photos,
52 generated images, 73 analysed library items, 3 albums). Load: bench/locustfile.py, headless,
LOAD_USERS (20) spawned 5 a second, for LOAD_SECONDS (180), 1-3 s of thought between actions.

Last line: load: users=20 seconds=<s> requests=<n> errors=<n> p95_ms=<x> sockets=<n> live_events=<n>
where p95_ms is over page views (HTML GETs, redirects followed). Logins, uploads and generation
starts, pictures and static files count in requests and errors; their p95 is on the lines before.
errors: every request answered with a status other than 2xx/3xx or not answered, every exception
in a user's task, a live WebSocket that failed to connect or dropped, and any server process
that died. sockets: WebSockets connected; live_events: events they received. Targets: errors=0, p95_ms <= 150, and no
ERROR line in the logs of gunicorn and Celery (exit status 1 when missed).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from dataclasses import asdict  # noqa: E402

from bench.processes import (  # noqa: E402
    django_env,
    free_port,
    redis_for,
    say,
    start_worker,
    stop,
    wait_for_workers,
)

USERS = int(os.environ.get("LOAD_USERS", "20"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "180"))
# Threaded workers, one more than the cores, 4 threads each. The 20 logins of the first seconds
# are bcrypt hashes (0.2 s of CPU each, the GIL released): with 5 sync workers all 5 were busy
# hashing and page views waited for one to be free, while threads keep taking them. Back-to-back
# 60 s trials, 3 x 4 threads against 5 sync workers: page p95 213 vs 266 ms, then 39 vs 337 ms.
# Under ASGI Django runs sync views on one thread per process (thread_sensitive), so page views
# wait for each other within a worker: more processes than the threaded workers had.
# 90 s trials on the quiet two-core machine, every user's WebSocket open: gunicorn's uvicorn workers
# serving pages and sockets, page p95 349 ms (269 once everyone had logged in); threaded WSGI
# workers for the pages and uvicorn for the sockets, as production is laid out, 179 ms (146).
WORKER_CLASS = os.environ.get("LOAD_WORKER_CLASS", "gthread")
ASGI = "uvicorn" in WORKER_CLASS.lower()
LIVE_WORKERS = int(os.environ.get("LOAD_LIVE_WORKERS", "1"))
CORES = os.cpu_count() or 2
WORKERS = int(os.environ.get("LOAD_WORKERS", str(CORES * 4 + 1 if ASGI else CORES + 1)))
THREADS = int(os.environ.get("LOAD_THREADS", "4"))
# The Celery workers share the two cores with gunicorn here (in production they have their own):
# at nice 10 a page view is not kept waiting behind a photo analysis or a demo drawing, and the
# background work takes the cores as soon as the pages leave them. LOAD_WORKER_NICE=0 to compare.
WORKER_NICE = int(os.environ.get("LOAD_WORKER_NICE", "10"))
DEFAULT_DATABASE_URL = "mysql://root@127.0.0.1:3306/photoagent_load"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
WORK = ROOT / "var" / "bench" / "load"
TARGET_P95_MS = 150
TARGET_ERRORS = 0


def bin_of(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else name


# The database
# ------------------------------------------------------------------------------


def _server_and_name(database_url: str) -> tuple[dict, str]:
    import environ

    config = environ.Env.db_url_config(database_url)
    if config["ENGINE"] != "django.db.backends.mysql":
        sys.exit(f"bench: BENCH_DATABASE_URL must be a mysql:// URL, not {database_url}")
    server = {"host": config["HOST"] or "127.0.0.1", "port": int(config["PORT"] or 3306), "user": config["USER"]}
    if config["PASSWORD"]:
        server["password"] = config["PASSWORD"]
    return server, config["NAME"]


def database_sql(database_url: str, statement: str) -> None:
    import MySQLdb

    server, _ = _server_and_name(database_url)
    connection = MySQLdb.connect(**server)
    try:
        connection.cursor().execute(statement)
    finally:
        connection.close()


def database_answers(database_url: str) -> bool:
    import MySQLdb

    server, _ = _server_and_name(database_url)
    try:
        MySQLdb.connect(connect_timeout=2, **server).close()
    except MySQLdb.OperationalError:
        return False
    return True


def private_mariadb(processes: list) -> str:
    """Start mariadbd on a free port with a fresh data folder under WORK; stopped with the others."""
    server = shutil.which("mariadbd") or shutil.which("mysqld") or "/usr/sbin/mariadbd"
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    if not Path(server).exists() or install is None:
        sys.exit(
            "bench: MariaDB does not answer on 127.0.0.1:3306 and is not installed: apt-get install mariadb-server"
        )
    data = WORK / "mariadb"
    data.mkdir(parents=True)
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [
            install,
            "--no-defaults",
            f"--datadir={data}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            *user,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            server,
            "--no-defaults",
            f"--datadir={data}",
            f"--socket={data / 'mysqld.sock'}",
            "--bind-address=127.0.0.1",
            f"--port={port}",
            "--skip-log-bin",
            *user,
        ],
        stdout=(WORK / "mariadb.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    processes.append(("mariadbd", process))
    url = f"mysql://root@127.0.0.1:{port}/photoagent_load"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if database_answers(url):
            return url
        time.sleep(0.3)
    sys.exit(f"bench: could not start mariadbd; see {WORK / 'mariadb.log'}")


def database_create(database_url: str) -> None:
    _, name = _server_and_name(database_url)
    database_sql(database_url, f"DROP DATABASE IF EXISTS `{name}`")
    database_sql(database_url, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")


def database_drop(database_url: str) -> None:
    _, name = _server_and_name(database_url)
    database_sql(database_url, f"DROP DATABASE IF EXISTS `{name}`")


# Processes
# ------------------------------------------------------------------------------


def bench_env(redis_url: str, database_url: str, port: int) -> dict:
    env = django_env(redis_url=redis_url, database_url=database_url, data_dir=WORK / "data")
    # No provider token anywhere: training and generation run in demo mode.
    for name in ("REPLICATE_API_TOKEN", "HF_TOKEN", "SENDGRID_API_KEY", "AWS_STORAGE_BUCKET_NAME"):
        env.pop(name, None)
    for name in list(env):
        if name.endswith("_BACKEND") and name.startswith(("GENERATION", "TRAINING", "LIBRARY")):
            env.pop(name)
    env.update(
        {
            "STATIC_ROOT": str(WORK / "static"),
            "SITE_URL": f"http://127.0.0.1:{port}",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Generous limits: every user keeps generating and uploading for the whole run.
            "GENERATION_CONCURRENT_JOBS": "50",
            "GENERATION_IMAGES_PER_DAY": "100000",
            "GENERATION_MONTHLY_SPEND": "1000000",
            "PROJECT_PHOTOS_MAX": "1000",
            "PHOTO_UPLOAD_MAX_FILES": "20",
        }
    )
    return env


def wait_for_health(process, port: int, log: Path, name: str) -> None:
    """Until the server started answers /healthz (60 s at most); exits the bench when it dies."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"bench: {name} exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"bench: {name} did not answer /healthz within 60 s; see {log}")


def start_gunicorn(env: dict, port: int, processes: list) -> None:
    log = WORK / "gunicorn.log"
    process = subprocess.Popen(
        [
            bin_of("gunicorn"),
            "photoagent.asgi:application" if ASGI else "photoagent.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            WORKER_CLASS,
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
            "--timeout",
            "60",
            # Longer than a user's pause between two requests (at most 3 s): with gunicorn's 2 s
            # default it closed connections the client was reusing at that moment, and the GET
            # failed with "connection reset" (a browser retries those silently; locust does not).
            "--keep-alive",
            "15",
            "--error-logfile",
            str(log),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.with_suffix(".out").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    processes.append(("gunicorn", process))
    wait_for_health(process, port, log, "gunicorn")


def start_live(env: dict, port: int, processes: list) -> None:
    """The live pages' WebSocket server, as docker-compose's `live` service."""
    log = WORK / "live.log"
    process = subprocess.Popen(
        [
            bin_of("uvicorn"),
            "photoagent.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(LIVE_WORKERS),
            "--no-access-log",
            "--ws-ping-interval",
            "20",
            "--ws-ping-timeout",
            "20",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    processes.append(("live", process))
    wait_for_health(process, port, log, "the live server")


def start_background(env: dict, processes: list) -> None:
    # As Procfile.dev: generation and library apart from default and training.
    for name, queues, concurrency in (("default", "default,training", 1), ("generation", "generation,library", 2)):
        start_worker(
            name=f"load-{name}",
            queues=queues,
            concurrency=concurrency,
            env=env,
            log=WORK / f"worker-{name}.log",
            processes=processes,
            nice=WORKER_NICE,
        )
    beat = subprocess.Popen(
        ["nice", "-n", str(WORKER_NICE), bin_of("celery"), "-A", "photoagent", "beat", "--loglevel=WARNING"],
        cwd=ROOT,
        env=env,
        stdout=(WORK / "beat.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    processes.append(("beat", beat))


def make_uploads(folder: Path, count: int) -> None:
    """Distinct real JPEGs (640x600, over the 512 px minimum side) for the users to upload."""
    from projects.tests.factories import encode, scene

    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (folder / f"upload-{index:04d}.jpg").write_bytes(encode(scene(50_000 + index, size=(640, 600)), quality=88))


def run_locust(env: dict, port: int, accounts_path: Path, results: Path) -> int:
    locust_env = {
        **env,
        "LOAD_ACCOUNTS": str(accounts_path),
        "LOAD_UPLOADS": str(WORK / "uploads"),
        "LOAD_RESULTS": str(results),
        "LOAD_LIVE_URL": env.get("LIVE_WEBSOCKET_URL") or f"ws://127.0.0.1:{port}/ws/live/",
    }
    command = [
        bin_of("locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(USERS),
        "--spawn-rate",
        "5",
        "--run-time",
        f"{SECONDS}s",
        "--host",
        f"http://127.0.0.1:{port}",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "10",
    ]
    with (WORK / "locust.log").open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=locust_env, stdout=subprocess.PIPE, stderr=log, text=True)
        for line in process.stdout:
            if line.startswith("progress:"):
                say(line.rstrip())
            else:
                log.write(line)
        return process.wait()


# Results
# ------------------------------------------------------------------------------


def cpu_seconds(processes: list) -> dict[str, float]:
    """CPU time used so far by each started process with its children (gunicorn's and Celery's workers)."""
    import psutil  # comes with locust

    used = {}
    for name, process in processes:
        try:
            tree = psutil.Process(process.pid)
            members = [tree, *tree.children(recursive=True)]
            used[name] = sum(member.cpu_times().user + member.cpu_times().system for member in members)
        except psutil.Error:
            used[name] = 0.0
    return used


def p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def logged_errors(*names: str) -> list[str]:
    """ERROR and CRITICAL lines of these logs under WORK (Django's and Celery's formats both name the level)."""
    found = []
    for name in names:
        log = WORK / name
        text = log.read_text(errors="replace") if log.exists() else ""
        found += [f"{name}: {line}" for line in text.splitlines() if re.search(r"\b(?:ERROR|CRITICAL)\b", line)]
    return found


def report(results: Path, processes: list) -> int:
    samples = json.loads(results.read_text()) if results.exists() else []
    by_kind = defaultdict(list)
    by_name = defaultdict(list)
    failed = Counter()
    for kind, name, ms, ok, _ in samples:
        by_kind[kind].append(ms)
        by_name[(kind, name)].append(ms)
        if not ok:
            failed[name] += 1
    for (kind, name), values in sorted(item for item in by_name.items() if item[0][0] != "live"):
        say(
            f"  {kind:5} {name:38} n={len(values):5} median={sorted(values)[len(values) // 2]:6.0f} ms "
            f"p95={p95(values):6.0f} ms max={max(values):6.0f} ms failed={failed[name]}"
        )
    died = [f"{name} exited during the run" for name, process in processes if process.poll() is not None]
    # A view that raised after its response started, or a task that failed: not in the requests' statuses.
    server = logged_errors("gunicorn.log", "gunicorn.out", "live.log")
    background = logged_errors("worker-default.log", "worker-generation.log", "beat.log")
    for line in [*died, *server[:5], *background[:5]]:
        say(f"error: {line[:240]}")
    posts = by_name[("write", "upload a photo")] + by_name[("write", "start a generation")]
    say(
        f"uploads and generation starts: n={len(posts)} p95_ms={p95(posts):.0f} "
        f"(uploads {p95(by_name[('write', 'upload a photo')]):.0f}, "
        f"generation starts {p95(by_name[('write', 'start a generation')]):.0f}); "
        f"logins: n={len(by_name[('write', 'log in')])} p95_ms={p95(by_name[('write', 'log in')]):.0f}; "
        f"pictures and static files: n={len(by_kind['asset'])} p95_ms={p95(by_kind['asset']):.0f}"
    )
    logged_in = max((at for kind, name, _, _, at in samples if name == "log in"), default=0.0)
    settled = [ms for kind, _, ms, _, at in samples if kind == "page" and at > logged_in]
    say(
        f"page views once every user had logged in (after {logged_in:.0f} s; each login is a bcrypt hash): "
        f"n={len(settled)} p95_ms={p95(settled):.0f}"
    )
    errors = sum(failed.values()) + len(died)
    requests = sum(1 for sample in samples if sample[0] not in ("error", "socket", "live"))
    sockets = sum(1 for kind, _, _, ok, _ in samples if kind == "socket" and ok)
    live_events = len(by_kind["live"])
    page_p95 = p95(by_kind["page"])
    missed = []
    if ASGI and sockets < USERS:
        missed.append(f"sockets={sockets} (every one of the {USERS} users keeps one open)")
    if not requests:
        missed.append("no requests recorded")
    if server or background:
        missed.append(f"errors logged by gunicorn: {len(server)}, by Celery: {len(background)} (target 0)")
    if errors > TARGET_ERRORS:
        missed.append(f"errors={errors} (target {TARGET_ERRORS})")
    if page_p95 > TARGET_P95_MS:
        missed.append(f"p95_ms={page_p95:.0f} (target <= {TARGET_P95_MS})")
    if missed:
        say("targets missed: " + ", ".join(missed) + f"; logs in {WORK}")
    say(
        f"load: users={USERS} seconds={SECONDS} requests={requests} errors={errors} p95_ms={page_p95:.0f} "
        f"sockets={sockets} live_events={live_events}"
    )
    return 1 if missed else 0


def background_summary(since) -> None:
    """What the users' uploads and generations became (rows made during the run only)."""
    from generation.models import Generation
    from library.models import LibraryItem
    from projects.models import Photo

    jobs = Generation.objects.filter(created_at__gte=since)
    done = [
        (completed - created).total_seconds()
        for created, completed in jobs.filter(status=Generation.Status.SUCCEEDED).values_list(
            "created_at", "completed_at"
        )
    ]

    def statuses(model):
        return dict(Counter(model.objects.filter(created_at__gte=since).values_list("status", flat=True)))

    say(
        f"background: jobs {dict(Counter(jobs.values_list('status', flat=True)))}, "
        f"seconds to images median {sorted(done)[len(done) // 2] if done else 0:.1f} p95 {p95(done):.1f}; "
        f"photos {statuses(Photo)}; library items {statuses(LibraryItem)}"
    )


# The run
# ------------------------------------------------------------------------------


def main() -> int:
    database_url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    processes: list = []
    database: list = []  # a private mariadbd: stopped last, after the database is dropped
    try:
        if not database_answers(database_url) and not os.environ.get("BENCH_DATABASE_URL"):
            say(f"database: {database_url} does not answer; starting a private mariadbd")
            database_url = private_mariadb(database)
        database_create(database_url)
        try:
            return run(database_url, processes)
        finally:
            stop(processes)
            database_drop(database_url)
    finally:
        stop(database)


def run(database_url: str, processes: list) -> int:
    redis_url = redis_for(processes, os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)
    port = free_port()
    env = bench_env(redis_url, database_url, port)
    live_port = None
    if not ASGI:  # the pages' WSGI workers serve no WebSockets: the live server does
        live_port = free_port()
        env["LIVE_WEBSOCKET_URL"] = f"ws://127.0.0.1:{live_port}/ws/live/"
    os.environ.clear()
    os.environ.update(env)
    say(f"redis: {redis_url} (flushed); database: {database_url} (fresh); files: {WORK}")

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from bench.load_seed import seed
    from photoagent.celery import app

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    started = time.perf_counter()
    accounts = seed(users=USERS, say=say)
    make_uploads(WORK / "uploads", count=max(50, USERS * SECONDS // 8))
    accounts_path = WORK / "accounts.json"
    accounts_path.write_text(json.dumps([asdict(account) for account in accounts]))
    say(f"seed: {USERS} users in {time.perf_counter() - started:.1f} s")

    start_gunicorn(env, port, processes)
    if live_port is not None:
        start_live(env, live_port, processes)
    start_background(env, processes)
    wait_for_workers(app, processes, count=2, logs=WORK)
    say(
        f"gunicorn: {WORKERS} {WORKER_CLASS} workers{'' if ASGI else f' x {THREADS} threads'} on 127.0.0.1:{port}"
        f"{f'; live: uvicorn ({LIVE_WORKERS}) on 127.0.0.1:{live_port}' if live_port else ''}; "
        f"2 Celery workers and beat ready (nice {WORKER_NICE})"
    )

    results = WORK / "results.json"
    load_started = timezone.now()
    cpu_before, load_before = cpu_seconds(processes), os.getloadavg()[0]
    code = run_locust(env, port, accounts_path, results)
    cpu = {name: used - cpu_before.get(name, 0.0) for name, used in cpu_seconds(processes).items()}
    say(
        f"cpu seconds during the load: web {cpu.get('gunicorn', 0):.0f}, live {cpu.get('live', 0):.0f}, "
        f"background {sum(used for name, used in cpu.items() if name not in ('gunicorn', 'live')):.0f} "
        f"(on {os.cpu_count()} cores, shared); machine load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after"
    )
    if code not in (0, 1):  # 1: locust saw failed requests, which the report counts
        say(f"locust exited with {code}; see {WORK / 'locust.log'}")
    background_summary(load_started)
    return report(results, processes)


if __name__ == "__main__":
    sys.exit(main())
