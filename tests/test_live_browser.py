"""Live pages in a real Chromium: what the user types, where the focus is and what they upload survive every
update; nothing reloads the page behind their back."""

import threading

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test import Client

from accounts.tests.factories import UserFactory
from projects.events import event_record
from projects.models import Membership, Photo, ProjectEvent, Role
from projects.tests.factories import ProjectFactory, encode, scene
from tests.support import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set on the first load; a reload would lose it.
NOT_RELOADED = "window.__notReloaded === true"


@pytest.fixture
def browser_for(chromium_path, live_server):
    yield from _browser(chromium_path, live_server)


@pytest.fixture
def asgi_browser_for(chromium_path, asgi_live_server):
    """Pages served with their live WebSocket (uvicorn, photoagent.asgi)."""
    yield from _browser(chromium_path, asgi_live_server)


def _browser(chromium_path, server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)

        def logged_in(user, width=1200):
            client = Client()
            client.force_login(user)
            context = browser.new_context(viewport={"width": width, "height": 900})
            context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server.url}])
            page = context.new_page()
            page.set_default_timeout(15_000)
            return page

        yield logged_in
        browser.close()


def processing_photo(project, n):
    """A photo whose processing task has not run yet; the test decides when its state changes."""
    stored = default_storage.save(f"users/{project.owner_id}/x{n}.jpg", ContentFile(encode(scene(n), quality=80)))
    return Photo.objects.create(
        project=project,
        original=stored,
        training_image=stored,
        original_filename=f"photo-{n}.jpg",
        format="JPEG",
        bytes=1,
        sha256=f"{n:064d}",
        width=1600,
        height=1200,
        status=Photo.Status.PROCESSING,
    )


def open_page(page, url):
    page.goto(url)
    page.evaluate("window.__notReloaded = true")


def test_typing_survives_state_updates_and_saves_and_the_focus_stays_put(browser_for, live_server):
    project = ProjectFactory()
    photo_a, photo_b = processing_photo(project, 1), processing_photo(project, 2)
    page = browser_for(project.owner)
    open_page(page, f"{live_server.url}/projects/{project.id}/")
    box_a, box_b = (
        page.locator(f"#id_photo-{photo_a.id}-description"),
        page.locator(f"#id_photo-{photo_b.id}-description"),
    )
    box_b.click()
    page.keyboard.type("the mug from above, half a sent")

    # Photo A finishes processing while the user types in B's box: the page updates A's state only.
    Photo.objects.filter(id=photo_a.id).update(status=Photo.Status.READY)
    page.locator(f"#photo-{photo_a.id} .photo-state").filter(has_not_text="Processing").wait_for()
    assert box_b.input_value() == "the mug from above, half a sent"
    assert page.evaluate("document.activeElement.id") == f"id_photo-{photo_b.id}-description"
    page.keyboard.type("ence")
    assert box_b.input_value() == "the mug from above, half a sentence"

    # Saving A with the keyboard: no reload, the focus stays on A's Save, B keeps its unsaved text.
    box_a.fill("the mug on a wooden table")
    box_a.focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator(f"#photo-{photo_a.id} [data-saved]").filter(has_text="Description saved.").wait_for()
    assert Photo.objects.get(id=photo_a.id).description == "the mug on a wooden table"
    assert page.evaluate(NOT_RELOADED)
    assert page.evaluate("document.activeElement.closest('[data-describe]')?.action").endswith(
        f"/photos/{photo_a.id}/description/"
    )
    assert box_b.input_value() == "the mug from above, half a sentence"

    # A save finishing (or a poll landing) while the user types in B leaves B's box and focus alone.
    box_b.focus()
    page.evaluate(f"document.querySelector('#photo-{photo_a.id} form.describe').requestSubmit()")
    page.locator(f"#photo-{photo_a.id} [data-saved]").filter(has_text="Description saved.").wait_for()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.activeElement.id") == f"id_photo-{photo_b.id}-description"
    assert box_b.input_value() == "the mug from above, half a sentence"

    # An empty box is saved as cleared, not as "Saved".
    box_a.fill("")
    page.locator(f"#photo-{photo_a.id} form.describe button").click()
    page.locator(f"#photo-{photo_a.id} [data-saved]").filter(has_text="Description cleared.").wait_for()
    assert page.evaluate(NOT_RELOADED)


def write_photos(tmp_path, count):
    paths = []
    for seed in range(count):
        path = tmp_path / f"upload-{seed}.jpg"
        path.write_bytes(encode(scene(300 + seed, size=(1200, 1100)), quality=85))
        paths.append(str(path))
    return paths


def test_an_upload_reports_progress_and_new_photos_appear_without_a_reload(browser_for, live_server, tmp_path):
    from playwright.sync_api import expect

    project = ProjectFactory()
    earlier = processing_photo(project, 9)
    page = browser_for(project.owner)
    open_page(page, f"{live_server.url}/projects/{project.id}/")
    page.locator(f"#id_photo-{earlier.id}-description").fill("typed before the upload")
    page.get_by_label("Choose photos").set_input_files(write_photos(tmp_path, 3))
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("3 of 3 photos uploaded").wait_for(timeout=60_000)  # each is processed in its request here
    # The new cards come with the page's next live update, just after the upload's own message.
    expect(page.locator("[data-photo-id]")).to_have_count(4)
    expect(page.get_by_text("4 / 15")).to_be_visible()
    assert page.locator(f"#id_photo-{earlier.id}-description").input_value() == "typed before the upload"
    assert page.evaluate(NOT_RELOADED)


def test_leaving_during_an_upload_warns_and_a_reload_says_which_files_arrived(browser_for, live_server, tmp_path):
    project = ProjectFactory()
    page = browser_for(project.owner)
    open_page(page, f"{live_server.url}/projects/{project.id}/")
    held = []

    def first_file_only(route):
        if held or route.request.method != "POST":
            held.append(route)  # never answered: the connection is cut when the page goes
        else:
            held.append(None)
            route.continue_()

    page.route(f"{live_server.url}/projects/{project.id}/photos/", first_file_only)
    page.get_by_label("Choose photos").set_input_files(write_photos(tmp_path, 3))
    page.get_by_role("button", name="Upload").click()
    page.locator("[data-progress-text]").filter(has_text="1 of 3 files uploaded").wait_for(timeout=60_000)
    text = page.locator("[data-progress-text]").inner_text()
    assert "%" in text
    assert "left" in text

    leaving = page.evaluate(
        "(() => { const e = new Event('beforeunload', { cancelable: true }); window.dispatchEvent(e); "
        "return e.defaultPrevented; })()"
    )
    assert leaving is True

    page.on("dialog", lambda dialog: dialog.accept())
    page.reload()
    results = page.locator("[data-results]")
    results.get_by_text("The last upload was interrupted.").wait_for()
    assert "Arrived (1): upload-0.jpg" in results.inner_text()
    assert "Did not arrive (2): upload-1.jpg, upload-2.jpg" in results.inner_text()
    # Said once: the next visit is quiet.
    page.reload()
    assert page.locator("[data-results] li").count() == 0


def test_choosing_a_model_with_the_keyboard_keeps_the_page_and_the_focus(browser_for, live_server):
    from generation.tests.factories import trained_model
    from projects.models import Project

    product = trained_model()
    person = trained_model(owner=product.project.owner, category=Project.Category.PERSON)
    page = browser_for(product.project.owner)
    open_page(page, f"{live_server.url}/generation/new/?model={person.id}")
    page.get_by_label("Prompt", exact=True).fill("on a sunny beach")
    counter = page.locator("[data-prompt-count]")
    assert counter.inner_text().startswith(f"{len(f'a photo of {person.trigger_word}, on a sunny beach')} / ")
    model = page.get_by_label("Model")
    model.focus()
    page.keyboard.press("ArrowDown")
    page.wait_for_load_state("networkidle")
    assert page.evaluate(NOT_RELOADED)
    assert page.evaluate("document.activeElement.name") == "model"
    assert model.input_value() != str(person.id)
    chosen = model.input_value()
    assert page.get_by_label("Prompt", exact=True).input_value() == "on a sunny beach"
    templates = page.locator("[data-template]")
    if chosen == str(product.id):
        assert product.trigger_word in templates.first.get_attribute("data-template")
        assert product.trigger_word in page.locator("[data-trigger-note]").inner_text()
    assert not page.locator("details.advanced").evaluate("details => details.open")


@pytest.mark.parametrize("path", ["/projects/", "/projects/new/", "/projects/{id}/", "/projects/{id}/edit/"])
def test_project_pages_fit_a_320_px_screen(browser_for, live_server, path):
    project = ProjectFactory(name="A project with a rather long name for a small phone", trigger_word="TRIGGERWORDXYZ")
    for n in range(3):
        processing_photo(project, n)
    page = browser_for(project.owner, width=320)
    page.goto(live_server.url + path.format(id=project.id))
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} is {overflow} px wider than the screen"


def test_a_run_and_a_job_page_show_the_finished_state_without_reloading(browser_for, live_server, settings):
    from django.utils import timezone

    from generation import services as generation_services
    from generation.models import Generation
    from generation.tests.factories import trained_model
    from training import services as training_services
    from training.models import TrainingRun
    from training.tests.factories import ready_project

    settings.TRAINING_BACKEND = "training.backends.demo.DemoTrainingBackend"
    settings.GENERATION_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.DEMO_TRAINING_SECONDS = settings.DEMO_GENERATION_SECONDS = 600
    project = ready_project()
    run = training_services.training_start(project=project, preset="fast")
    page = browser_for(project.owner)
    open_page(page, f"{live_server.url}/training/runs/{run.id}/")
    assert page.get_by_role("button", name="Cancel training").is_visible()
    TrainingRun.objects.filter(id=run.id).update(
        status=TrainingRun.Status.SUCCEEDED, progress=100, hf_commit="abc123", completed_at=timezone.now()
    )
    page.get_by_role("link", name="Generate with this model").wait_for()
    assert page.get_by_role("strong").filter(has_text="100 %").is_visible()
    assert page.get_by_role("button", name="Cancel training").count() == 0
    assert page.evaluate(NOT_RELOADED)
    assert page.locator("[data-live-url]").get_attribute("data-live-active") == "false"

    model = trained_model(owner=project.owner)
    job = generation_services.generation_create(user=project.owner, training_run=model, prompt="on a beach")
    open_page(page, f"{live_server.url}/generation/jobs/{job.id}/")
    page.get_by_text("this page updates by itself").wait_for()
    Generation.objects.filter(id=job.id).update(status=Generation.Status.FAILED, error="The provider gave up.")
    page.get_by_text("The provider gave up.").wait_for()
    assert page.get_by_role("button", name="Cancel").count() == 0
    assert page.evaluate(NOT_RELOADED)


# The live pages' WebSocket (projects/consumers.py) ----------------------------------------------------

LIVE = "() => document.documentElement.dataset.live === 'live'"
PAUSED = "Live updates paused — refreshing every few seconds"


def open_live_page(page, url):
    open_page(page, url)
    page.wait_for_function(LIVE)


def test_an_event_refreshes_a_quiet_page_at_once_and_what_is_typed_stays(asgi_browser_for, asgi_live_server):
    from playwright.sync_api import expect

    project = ProjectFactory()
    typed_in = processing_photo(project, 1)
    Photo.objects.filter(id=typed_in.id).update(status=Photo.Status.READY)
    page = asgi_browser_for(project.owner)
    open_live_page(page, f"{asgi_live_server.url}/projects/{project.id}/")
    assert page.locator("[data-live-url]").get_attribute("data-live-active") == "false"  # nothing polls
    page.locator(f"#id_photo-{typed_in.id}-description").fill("half a sent")

    # Another process adds a photo; its event (after commit) is all that tells the page. Written from
    # another thread, as a worker would: this one runs Playwright's event loop, where publishing cannot.
    added = {}

    def another_process():
        with transaction.atomic():
            added["photo"] = processing_photo(project, 2)
            event_record(project_id=project.id, kind=ProjectEvent.Kind.PHOTO_UPLOADED, photo=added["photo"].id)
        connection.close()

    writer = threading.Thread(target=another_process)
    writer.start()
    writer.join()
    expect(page.locator(f"#photo-{added['photo'].id}")).to_be_visible(timeout=2_000)
    assert page.locator(f"#id_photo-{typed_in.id}-description").input_value() == "half a sent"
    assert page.evaluate(NOT_RELOADED)


def test_an_editor_uploads_and_describes_while_the_owner_watches_and_types(
    asgi_browser_for, asgi_live_server, tmp_path, settings
):
    from playwright.sync_api import expect

    settings.PHOTO_MIN_SIDE = 256
    project = ProjectFactory()
    mine = processing_photo(project, 1)
    Photo.objects.filter(id=mine.id).update(status=Photo.Status.READY)
    editor = UserFactory()
    Membership.objects.create(project=project, user=editor, role=Role.EDITOR)
    url = f"{asgi_live_server.url}/projects/{project.id}/"
    owner_page, editor_page = asgi_browser_for(project.owner), asgi_browser_for(editor)
    open_live_page(owner_page, url)
    open_live_page(editor_page, url)
    owner_box = owner_page.locator(f"#id_photo-{mine.id}-description")
    owner_box.click()
    owner_page.keyboard.type("the owner, typing")

    editor_page.get_by_label("Choose photos").set_input_files(write_photos(tmp_path, 1))
    editor_page.get_by_role("button", name="Upload").click()
    editor_page.get_by_text("1 of 1 photo uploaded").wait_for(timeout=60_000)
    theirs = Photo.objects.exclude(id=mine.id).get(project=project)
    expect(owner_page.locator(f"#photo-{theirs.id}")).to_be_visible(timeout=2_000)

    editor_page.locator(f"#id_photo-{theirs.id}-description").fill("a red mug on a desk")
    editor_page.locator(f"#photo-{theirs.id} form.describe button").click()
    editor_page.locator(f"#photo-{theirs.id} [data-saved]").filter(has_text="Description saved.").wait_for()
    expect(owner_page.locator(f"#photo-{theirs.id} img[alt='a red mug on a desk']")).to_be_attached(timeout=2_000)

    assert owner_box.input_value() == "the owner, typing"
    assert owner_page.evaluate("document.activeElement.id") == f"id_photo-{mine.id}-description"
    assert owner_page.evaluate(NOT_RELOADED)


def test_a_dropped_connection_says_so_and_the_page_still_updates_by_polling(
    asgi_browser_for, asgi_live_server, settings
):
    settings.LIVE_FALLBACK_POLL_SECONDS = 1
    project = ProjectFactory()
    photo = processing_photo(project, 1)
    page = asgi_browser_for(project.owner)
    sockets, refuse = [], []

    def through(ws):
        if refuse:
            ws.close()
            return
        sockets.append(ws)
        ws.connect_to_server()

    page.route_web_socket("**/ws/live/**", through)
    open_live_page(page, f"{asgi_live_server.url}/projects/{project.id}/")
    assert page.get_by_text(PAUSED).count() == 0

    refuse.append(True)  # the server is gone: every reconnect fails
    sockets[-1].close()
    page.get_by_text(PAUSED).wait_for(timeout=5_000)
    # No event reaches the page now: the fallback polling finds the change.
    Photo.objects.filter(id=photo.id).update(status=Photo.Status.READY)
    page.locator(f"#photo-{photo.id} .photo-state").filter(has_not_text="Processing").wait_for(timeout=5_000)

    refuse.clear()  # back: the line goes once the page has reconnected
    page.wait_for_function(LIVE, timeout=40_000)
    assert page.get_by_text(PAUSED).count() == 0
    assert page.evaluate(NOT_RELOADED)
