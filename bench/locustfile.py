"""The users of `make load`: bench/load.py runs this file with locust, headless.

Each simulated user logs in through the real form (CSRF and all) with their own seeded account,
then browses like a person: the dashboard, projects, the gallery with its pages and filters, the
library and its search, image and item pages, albums; now and then uploads a photo or starts a
generation and watches its job page until the images are there. Between two actions a user
thinks for 1 to 3 seconds. Like a browser, a user loads every picture a page shows (each one
kept for the 5 minutes their Cache-Control allows) and the static files once.

Each user also keeps the live pages' WebSocket (ws/live/) open from login to the end, as every
open page does: connects (kind "socket") and the events received (kind "live") are recorded too;
a socket that fails to connect or drops during the run is an error.

Every request is recorded as a page view (an HTML GET), an asset (thumbnails, static files) or
a write (POST); LOAD_RESULTS receives them all when locust quits. A line `progress: ...` is
printed every 15 seconds.
"""

import itertools
import json
import os
import random
import re
import time
from pathlib import Path

import gevent
import websocket  # websocket-client: its blocking socket is cooperative under locust's gevent
from locust import HttpUser, between, events, task

ACCOUNTS = json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text())
UPLOADS = sorted(Path(os.environ["LOAD_UPLOADS"]).glob("*.jpg"))
RESULTS = Path(os.environ["LOAD_RESULTS"])
# The live server's socket URL (bench/load.py: docker-compose's `live`, or gunicorn's own uvicorn workers).
LIVE_URL = os.environ.get("LOAD_LIVE_URL", "")
LIVE = bool(LIVE_URL)
PROGRESS_SECONDS = 15
BROWSER_CACHE_SECONDS = 300
JOB_POLL_SECONDS = 3  # the job page's own meta refresh
JOB_POLLS_MAX = 20
QUERIES = [
    "mug on a wooden table in morning light",
    "product on a white background",
    "outdoors by a lake",
    "dark background with reflections",
    "snow at dusk",
    "top-down flat lay with props",
    "blue mug",
    "lighthouse",
    "beach",
    "something warm and cosy",
    "city lights at night",
    "green meadow golden hour",
]
# Which page a person opens next: a load pattern, not a secret.
RNG = random.Random()  # noqa: S311
# What a page links to, by kind: where a person may click next.
LINKS = {
    "projects": r'href="/projects/(\d+)/"',
    "images": r'href="/generation/images/(\d+)/"',
    "items": r'href="/library/items/(\d+)/"',
    "albums": r'href="/library/albums/(\d+)/"',
}

_accounts = itertools.count()
_uploads = itertools.count()
# (kind, name, milliseconds, ok, seconds since start)
samples: list[tuple[str, str, float, bool, float]] = []
_started = time.monotonic()
_quitting = False


@events.request.add_listener
def _record(name, response_time, exception, context, **kwargs):
    samples.append(
        (context.get("kind", "page"), name, float(response_time), exception is None, time.monotonic() - _started)
    )


@events.user_error.add_listener
def _task_failed(exception, **kwargs):
    # An exception in a task, outside any request: an error all the same.
    samples.append(("error", type(exception).__name__, 0.0, False, time.monotonic() - _started))


def answered(response) -> bool:
    """A 2xx or 3xx answer; unlike `response.ok` this never raises the connection's error."""
    return response.error is None and 200 <= response.status_code < 400


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _progress() -> None:
    seen = 0
    while True:
        gevent.sleep(PROGRESS_SECONDS)
        window = samples[seen:]
        seen += len(window)
        pages = [ms for kind, _, ms, _, _ in window if kind == "page"]
        print(
            f"progress: t={time.monotonic() - _started:.0f}s requests={len(samples)} "
            f"errors={sum(1 for sample in samples if not sample[3])} "
            f"last {PROGRESS_SECONDS}s: {len(window)} requests, page views p95 {_p95(pages):.0f} ms",
            flush=True,
        )


@events.test_start.add_listener
def _on_start(**kwargs):
    global _started
    _started = time.monotonic()
    gevent.spawn(_progress)


@events.quitting.add_listener
def _on_quit(**kwargs):
    RESULTS.write_text(json.dumps(samples))


@events.test_stopping.add_listener
def _on_stopping(**kwargs):
    global _quitting
    _quitting = True


class Person(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        self.account = ACCOUNTS[next(_accounts) % len(ACCOUNTS)]
        self.cached: dict[str, float] = {}
        self.seen: dict[str, list[str]] = {kind: [] for kind in LINKS}
        self.pages: dict[str, int] = {}  # how many pages a listing has
        form = self.page("/accounts/login/", "login form", login_page=True)
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.account["email"],
                "password": self.account["password"],
                "csrfmiddlewaretoken": self.csrf(),
            },
            name="log in",
            allow_redirects=False,
            catch_response=True,
            context={"kind": "write"},
        ) as response:
            if response.status_code != 302:
                response.failure(f"login answered {response.status_code}, not a redirect")
        # The stylesheet, script and logo under their hashed names, as the page links them.
        for path in dict.fromkeys(re.findall(r'(?:href|src)="(/static/[^"]+)"', form)):
            self.asset(path, "static file")
        self.live = None
        if LIVE:
            gevent.spawn(self.listen)
        self.dashboard()

    def on_stop(self):
        if self.live is not None:
            self.live.close()

    def listen(self) -> None:
        """The live WebSocket every page keeps open: count what it hears, until the run ends."""
        started = time.monotonic()
        try:
            self.live = websocket.create_connection(
                LIVE_URL,
                header=[f"Cookie: sessionid={self.client.cookies.get('sessionid', '')}"],
                origin=self.host,
                timeout=60,
            )
        except Exception as error:  # noqa: BLE001 - any failure to connect is an error of the run
            samples.append(("socket", "live connect", 0.0, False, time.monotonic() - _started))
            samples.append(("error", f"live connect: {type(error).__name__}", 0.0, False, time.monotonic() - _started))
            return
        samples.append(
            ("socket", "live connect", (time.monotonic() - started) * 1000, True, time.monotonic() - _started)
        )
        while True:
            try:
                message = json.loads(self.live.recv() or "{}")
            except websocket.WebSocketTimeoutException:
                self.live.send(json.dumps({"ping": time.time()}))  # as the page's heartbeat
                continue
            except Exception as error:  # noqa: BLE001
                if not _quitting:
                    samples.append(
                        (
                            "error",
                            f"live socket dropped: {type(error).__name__}",
                            0.0,
                            False,
                            time.monotonic() - _started,
                        )
                    )
                return
            if "event" in message or "user_event" in message:
                samples.append(("live", "event received", 0.0, True, time.monotonic() - _started))

    # Helpers
    # --------------------------------------------------------------------------

    def csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def asset(self, path: str, name: str) -> None:
        if self.cached.get(path, 0) > time.monotonic():
            return
        with self.client.get(path, name=name, catch_response=True, context={"kind": "asset"}) as response:
            if response.status_code == 200:
                self.cached[path] = time.monotonic() + BROWSER_CACHE_SECONDS

    def page(self, path: str, name: str, params=None, login_page=False) -> str:
        """GET an HTML page as a browser would (redirects followed, then its pictures); its text."""
        with self.client.get(path, params=params, name=name, catch_response=True, context={"kind": "page"}) as response:
            text = response.text or ""
            if answered(response) and not login_page and "/accounts/login/" in response.url:
                response.failure("sent to the login page: the session was lost")
                return ""
        if answered(response):
            pictures = re.findall(r'<img src="(/(?:projects/files|generation/images)/[^"]+)"', text)
            for picture in pictures:
                self.asset(picture, "picture (thumbnail or full)")
        return text

    def browse(self, path: str, name: str, params=None) -> str:
        """Open a page and remember what it links to, as the next click may be one of those."""
        text = self.page(path, name, params=params)
        for kind, pattern in LINKS.items():
            found = list(dict.fromkeys(re.findall(pattern, text)))
            if found:
                self.seen[kind] = found
        if text and not params:
            self.pages[path] = max([1, *map(int, re.findall(r"[?&]page=(\d+)", text))])
        return text

    def open_one(self, kind: str, path: str, name: str) -> None:
        if self.seen[kind]:
            self.page(path.format(RNG.choice(self.seen[kind])), name)

    # Browsing
    # --------------------------------------------------------------------------

    @task(3)
    def dashboard(self):
        self.browse("/app/", "dashboard (redirects to projects)")

    @task(2)
    def project_list(self):
        self.browse("/projects/", "project list")

    @task(4)
    def project_page(self):
        self.open_one("projects", "/projects/{}/", "project page")

    @task(6)
    def gallery(self):
        def page():
            return RNG.randint(1, self.pages.get("/generation/", 1))

        choices = [{}] * 4 + [{"page": page()}] * 3
        choices += [{"model": self.account["model_id"]}, {"favourites": "1"}, {"sort": "likeness", "page": page()}]
        self.browse("/generation/", "gallery", params=RNG.choice(choices))

    @task(3)
    def image_page(self):
        self.open_one("images", "/generation/images/{}/", "image page")

    @task(3)
    def library(self):
        page = RNG.randint(1, self.pages.get("/library/", 1))
        choices = [{}, {}, {"page": page}, {"kind": RNG.choice(["photo", "generated"])}]
        self.browse("/library/", "library", params=RNG.choice(choices))

    @task(6)
    def search(self):
        params = {"q": RNG.choice(QUERIES)}
        if RNG.random() < 0.2:
            params["kind"] = RNG.choice(["photo", "generated"])
        self.browse("/library/", "library search", params=params)

    @task(3)
    def item_page(self):
        self.open_one("items", "/library/items/{}/", "library item page")

    @task(1)
    def albums(self):
        self.browse("/library/albums/", "album list")
        self.open_one("albums", "/library/albums/{}/", "album page")

    @task(1)
    def models(self):
        self.page("/training/models/", "model list")

    # Writing
    # --------------------------------------------------------------------------

    @task(1)
    def upload(self):
        project = self.account["upload_project_id"]
        self.page(f"/projects/{project}/", "project page")
        photo = UPLOADS[next(_uploads) % len(UPLOADS)]
        with self.client.post(
            f"/projects/{project}/photos/",
            data={"csrfmiddlewaretoken": self.csrf()},
            files=[("photos", (photo.name, photo.read_bytes(), "image/jpeg"))],
            headers={"Accept": "application/json"},
            name="upload a photo",
            catch_response=True,
            context={"kind": "write"},
        ) as response:
            if answered(response) and not response.json().get("accepted"):
                response.failure(f"upload refused: {response.text[:200]}")

    @task(1)
    def generate(self):
        model = self.account["model_id"]
        self.page("/generation/new/", "generation form", params={"model": model})
        with self.client.post(
            "/generation/new/",
            data={
                "csrfmiddlewaretoken": self.csrf(),
                "model": model,
                "prompt": RNG.choice(QUERIES),
                "num_outputs": RNG.choice([1, 2, 4, 4]),
                "aspect_ratio": RNG.choice(["1:1", "4:5", "16:9"]),
                "seed": "",
                "guidance": "3",
                "steps": "28",
                "lora_scale": "1",
                "output_format": "webp",
            },
            name="start a generation",
            allow_redirects=False,
            catch_response=True,
            context={"kind": "write"},
        ) as response:
            job = response.headers.get("Location", "")
            if response.status_code != 302 or "/generation/jobs/" not in job:
                response.failure(f"generation not started (status {response.status_code})")
                return
        for _ in range(JOB_POLLS_MAX):
            text = self.page(job, "job page")
            if 'http-equiv="refresh"' not in text:
                return
            gevent.sleep(JOB_POLL_SECONDS)
