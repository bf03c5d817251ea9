"""A new user's first visit, in a real headless Chromium against a live server."""

import re

import pytest
from django.core import mail

from tests.support import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        page.screenshot(path=str(tmp_path / "last-page.png"), full_page=True)
        browser.close()


def test_sign_up_verify_log_in_create_a_token_and_log_out(page, live_server, settings, tmp_path):
    settings.SITE_URL = live_server.url
    page.goto(live_server.url)
    page.get_by_role("link", name="Create your account").click()

    page.get_by_label("Email").fill("journey@example.com")
    page.get_by_label("Display name").fill("Jo")
    page.get_by_label("Password", exact=True).fill("a long journey passphrase")
    page.get_by_label("Confirm password").fill("a long journey passphrase")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()

    [message] = mail.outbox
    link = re.search(r"https?://\S+/accounts/verify/\S+/", message.body).group(0)
    page.goto(link)
    page.get_by_text("Your email is verified").wait_for()

    page.get_by_label("Email").fill("journey@example.com")
    page.get_by_label("Password").fill("a long journey passphrase")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Your projects").wait_for()

    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Token name").fill("journey script")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token-value").input_value()
    assert secret.startswith("pat_")

    me = page.request.get(f"{live_server.url}/api/v1/me/", headers={"Authorization": f"Bearer {secret}"})
    assert me.status == 200
    assert me.json()["email"] == "journey@example.com"

    page.reload()
    assert page.locator("#new-token-value").count() == 0  # the secret is shown once only
    assert page.get_by_role("cell", name="journey script").is_visible()

    create_a_project_upload_and_describe_15_photos(page, live_server, tmp_path)
    train_the_model_and_get_the_email(page, settings)
    generate_four_images_open_one_and_download_it(page, settings)
    search_the_library_find_similar_and_make_more_like_this(page)
    accept_a_suggested_album(page)
    share_an_image_and_open_the_link_logged_out(page, live_server)

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").first.wait_for()
    page.goto(f"{live_server.url}/projects/")
    assert "/accounts/login/" in page.url


def create_a_project_upload_and_describe_15_photos(page, live_server, tmp_path):
    from projects.tests.factories import encode, scene

    page.get_by_role("link", name="Projects").click()
    page.get_by_role("link", name="Create your first project").click()
    page.get_by_label("Name").fill("Blue ceramic mug")
    page.get_by_label("Product").check()
    page.get_by_role("button", name="Create project").click()
    page.get_by_text("0 / 15").first.wait_for()

    files = []
    for seed in range(15):
        path = tmp_path / f"mug-{seed:02d}.jpg"
        path.write_bytes(encode(scene(100 + seed, size=(1200, 1100)), quality=90))
        files.append(str(path))
    page.locator("input[type=file]").set_input_files(files)
    assert page.locator("[data-previews] img").count() == 15
    page.get_by_role("button", name="Upload").click()
    # Tests process each photo inside its upload request (eager tasks): give the 15 requests time.
    page.get_by_text("15 of 15 photos uploaded").wait_for(timeout=90_000)
    page.get_by_text("15 / 15").first.wait_for()
    assert page.get_by_text("Not ready to train yet").is_visible()

    # Each save stays on the page: no reload, no lost focus.
    for index in range(15):
        page.locator("form.describe textarea").nth(index).fill(f"the blue mug, view {index + 1}, on a wooden table")
        page.locator("form.describe button").nth(index).click()
        page.locator("form.describe [data-saved]").nth(index).filter(has_text="Description saved.").wait_for()
    page.locator(".readiness .badge-ready").wait_for()
    assert page.locator(".verdict").inner_text().startswith("Ready to train")


def train_the_model_and_get_the_email(page, settings):
    import time

    from training import services
    from training.models import TrainingRun

    settings.TRAINING_BACKEND = "training.backends.demo.DemoTrainingBackend"
    settings.DEMO_TRAINING_SECONDS = 4
    page.get_by_label("Fast").check()
    page.get_by_role("button", name="Train").click()
    page.get_by_text("Demo mode: this training is simulated").wait_for()
    run = TrainingRun.objects.get()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not TrainingRun.objects.get(id=run.id).is_terminal:
        services.training_sync(run_id=run.id)  # what the beat's reconcile task does every few seconds
        time.sleep(0.5)
    page.reload()
    page.get_by_role("strong").filter(has_text="100 %").wait_for()
    assert page.locator(".badge-run-succeeded").is_visible()
    assert any("is ready (demo)" in message.subject for message in mail.outbox)
    page.get_by_role("link", name="Models").click()
    assert page.get_by_role("link", name="Blue ceramic mug").is_visible()


def generate_four_images_open_one_and_download_it(page, settings):
    from PIL import Image

    settings.GENERATION_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.DEMO_GENERATION_SECONDS = 0
    page.locator("table").get_by_role("link", name="Generate").click()
    page.get_by_role("button", name="Studio on white").click()
    assert "a product photo of" in page.get_by_label("Prompt", exact=True).input_value()
    page.get_by_label("Images").select_option("4")
    page.get_by_role("button", name="Generate", exact=True).click()
    page.locator(".badge-run-succeeded").wait_for()
    assert page.locator(".image-tile").count() == 4
    assert page.get_by_text("these images are simulated").is_visible()

    page.get_by_role("link", name="Images").click()
    assert page.locator("[data-lightbox]").count() == 4
    page.locator("[data-lightbox]").first.click()
    lightbox = page.locator("dialog[open]")
    lightbox.locator("img").wait_for()
    assert "a product photo of" in " ".join(lightbox.locator(".prompt").all_inner_texts())
    with page.expect_download() as download_info:
        lightbox.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-SIMULATED.webp")
    with Image.open(download.path()) as image:
        assert image.format == "WEBP"
    lightbox.get_by_role("button", name="Close").click()


def search_the_library_find_similar_and_make_more_like_this(page):
    page.get_by_role("link", name="Library").click()
    page.get_by_label("Search").fill("a mug on a wooden table")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_text("matched:").first.is_visible()
    page.locator(".image-tile a").first.click()
    page.locator("#similar .image-tile").first.wait_for()
    page.locator("#similar .image-tile a").first.click()
    page.get_by_role("heading", name="Make more like this").wait_for()
    page.get_by_label("Prompt", exact=True).fill("the mug on a picnic blanket in a sunny park")
    page.get_by_role("button", name="Open in the generation form").click()
    assert "picnic blanket" in page.get_by_label("Prompt", exact=True).input_value()
    page.get_by_label("Images").select_option("1")
    page.get_by_role("button", name="Generate", exact=True).click()
    page.locator(".badge-run-succeeded").wait_for()
    assert "picnic blanket" in " ".join(page.locator(".prompt").all_inner_texts())


def accept_a_suggested_album(page):
    page.get_by_role("link", name="Library").click()
    page.get_by_role("link", name="Suggested albums").click()
    page.get_by_role("button", name="Find suggestions").click()
    page.get_by_label("Title").first.fill("Mug shoot")
    page.get_by_role("button", name="Create album").first.click()
    page.get_by_role("heading", name="Mug shoot").wait_for()
    assert page.locator(".image-tile").count() >= 3


def share_an_image_and_open_the_link_logged_out(page, live_server):
    page.get_by_role("link", name="Images").click()
    page.locator("[data-lightbox]").first.click()
    page.locator("dialog[open]").get_by_role("link", name="Details").click()
    page.get_by_role("button", name="Share").click()
    link = page.locator("input[aria-label='Share link']").first.input_value()
    assert "/s/" in link
    stranger = page.context.browser.new_context()
    try:
        shared = stranger.new_page()
        shared.goto(link)
        image = shared.locator("img").first
        image.wait_for()
        assert shared.evaluate("(img) => img.naturalWidth", image.element_handle()) > 0
        assert shared.get_by_role("link", name="Log out").count() == 0
    finally:
        stranger.close()
