"""How long a change takes to reach the other member's SCREEN, not just their socket.

bench/live_latency.py stops at the WebSocket event; the page then waits its debounce, fetches its
live region and swaps the leaves that changed (static/js/app.js). Here a real headless Chromium,
signed in as a viewer of the project (a viewer sees each description as text, in the
`photo-<id>-description` leaf the live swap replaces; an editor's description box is deliberately
never overwritten), keeps the project page open on a real uvicorn server (photoagent.asgi, in a
thread of this process). This process makes LIVE_SCREEN_CHANGES description changes of the
project's ready photos through projects.services (actor: the owner), one every
LIVE_SCREEN_GAP_SECONDS. Measured, on the same machine clock: from the commit (time.time() in the
first on-commit callback) to the moment a MutationObserver in the page sees the new text in the DOM
(Date.now()).

Both layers, one after the other in a fresh process each: the embedded in-memory layer, then Redis
(channels_redis pub/sub) when REDIS_URL, else redis://127.0.0.1:6379/12, answers
(LIVE_LAYER=memory or LIVE_LAYER=redis runs one). Chromium: CHROMIUM_PATH, else `chromium` on the
PATH. One summary line per layer:

    live-screen: changes=<n> median_ms=<x> p95_ms=<y> layer=<memory|redis>
"""

import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.live_latency import DEFAULT_REDIS_URL, configure, serve  # noqa: E402
from bench.processes import redis_answers, say  # noqa: E402

CHANGES = int(os.environ.get("LIVE_SCREEN_CHANGES", "40"))
GAP_SECONDS = float(os.environ.get("LIVE_SCREEN_GAP_SECONDS", "0.5"))
PHOTOS = 4
WORK = ROOT / "var" / "bench" / "live-screen"
PREFIX = "on screen, take"

# Records when each new description text first appears in a description leaf of the page.
OBSERVE = """(prefix) => {
  window.__seen = {};
  const look = () => {
    const now = Date.now();
    document.querySelectorAll("[data-live-id$='-description']").forEach((leaf) => {
      const text = leaf.textContent.trim();
      if (text.startsWith(prefix) && !(text in window.__seen)) window.__seen[text] = now;
    });
  };
  new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""


def chromium() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not path:
        sys.exit("live-screen: Chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH)")
    return path


def main() -> None:
    if os.environ.get("LIVE_LAYER"):
        measure()
        return
    layers = ["memory"]
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if redis_answers(redis_url):
        layers.append("redis")
    else:
        say(f"live-screen: {redis_url} does not answer; the in-memory layer only")
    failed = False
    for layer in layers:
        env = dict(os.environ, LIVE_LAYER=layer)
        failed |= subprocess.run([sys.executable, __file__], env=env, check=False).returncode != 0
    sys.exit(1 if failed else 0)


def measure() -> None:
    path = chromium()
    layer = configure(WORK)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    import io

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import transaction
    from django.test import Client
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from accounts.models import User
    from projects import services
    from projects.models import Membership, Photo, Project, Role
    from tests.support import CHROMIUM_ARGS

    owner = User.objects.create_user(email="owner@bench.test", password="x" * 12)
    viewer = User.objects.create_user(email="viewer@bench.test", password="x" * 12)
    project = Project.objects.create(
        owner=owner, name="Live screen", trigger_word="LIVESCREEN", category=Project.Category.PRODUCT
    )
    Membership.objects.create(project=project, user=viewer, role=Role.VIEWER)
    photos = []
    for n in range(PHOTOS):
        jpeg = io.BytesIO()
        Image.new("RGB", (160, 120), (40 * n, 120, 200)).save(jpeg, "JPEG")
        stored = default_storage.save(f"bench/screen-{n}.jpg", ContentFile(jpeg.getvalue()))
        photos.append(
            Photo.objects.create(
                project=project,
                original=stored,
                training_image=stored,
                thumbnail=stored,
                original_filename=f"screen-{n}.jpg",
                format="JPEG",
                bytes=len(jpeg.getvalue()),
                sha256=f"{n:064d}",
                width=1600,
                height=1200,
                status=Photo.Status.READY,
            )
        )
    client = Client()
    client.force_login(viewer)
    session = client.cookies["sessionid"].value

    server, port = serve()
    url = f"http://127.0.0.1:{port}"
    committed: dict[str, float] = {}
    seen: dict[str, float] = {}
    ready, changed = threading.Event(), threading.Event()
    failure: list[str] = []

    def viewer_screen() -> None:
        """The viewer's browser, in its own thread: Playwright's sync API keeps an event loop in the
        thread it runs in, where the services' after-commit publish (async_to_sync) cannot run."""
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport={"width": 1200, "height": 900})
                context.add_cookies([{"name": "sessionid", "value": session, "url": url}])
                page = context.new_page()
                page.set_default_timeout(30_000)
                page.goto(f"{url}/projects/{project.id}/")
                if page.locator("[data-live-id$='-description']").count() != PHOTOS:
                    raise RuntimeError("the viewer's page does not show the photos' descriptions as text")
                deadline = time.monotonic() + 30  # polled: the CSP refuses wait_for_function's eval
                while page.evaluate("document.documentElement.dataset.live") != "live":
                    if time.monotonic() > deadline:
                        raise RuntimeError("the page's WebSocket did not open")
                    page.wait_for_timeout(100)
                page.evaluate(OBSERVE, PREFIX)
                ready.set()
                while not changed.is_set():
                    page.wait_for_timeout(200)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    seen.update(page.evaluate("window.__seen"))
                    if all(text in seen for text in committed):
                        break
                    page.wait_for_timeout(200)
                browser.close()
        except Exception as error:  # reported by the main thread
            failure.append(str(error))
            ready.set()

    screen = threading.Thread(target=viewer_screen, daemon=True)
    screen.start()
    ready.wait(90)
    if failure or not ready.is_set():
        sys.exit(f"live-screen: {failure[0] if failure else 'the browser did not open the page'}")
    say(f"live-screen: a viewer's Chromium is live on uvicorn 127.0.0.1:{port}, layer {layer}; {CHANGES} changes")

    for n in range(CHANGES):
        text = f"{PREFIX} {n}"
        stamp: list[float] = []

        def at_commit(stamp: list[float] = stamp) -> None:
            stamp.append(time.time() * 1000)

        with transaction.atomic():
            transaction.on_commit(at_commit)
            services.photo_update_description(photo=photos[n % PHOTOS], description=text, actor=owner)
        committed[text] = stamp[0]
        time.sleep(GAP_SECONDS)
    changed.set()
    screen.join(30)
    server.should_exit = True
    if failure:
        sys.exit(f"live-screen: {failure[0]}")

    latencies = sorted(seen[text] - at for text, at in committed.items() if text in seen)
    lost = len(committed) - len(latencies)
    if not latencies:
        sys.exit("live-screen: no change reached the screen")
    median = statistics.median(latencies)
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    if lost:
        say(f"live-screen: {lost} of {len(committed)} changes did not reach the screen within 10 s")
    print(f"live-screen: changes={CHANGES} median_ms={median:.1f} p95_ms={p95:.1f} layer={layer}", flush=True)
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
