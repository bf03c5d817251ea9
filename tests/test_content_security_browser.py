"""The pages work in a real Chromium under their Content-Security-Policy: nothing is refused, and the
scripted parts (the generation form, the API docs) still do their work."""

import pytest
from django.test import Client

from tests.support import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Chromium reports each refused script, style, image or frame on the console.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def owner_page(chromium_path, live_server, owned):
    from playwright.sync_api import sync_playwright

    client = Client()
    client.force_login(owned["owner"])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        context.add_init_script(WATCH_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(15_000)
        refused = []
        page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
        yield page, refused
        browser.close()


def visit(page, url):
    page.goto(url)
    page.wait_for_load_state("networkidle")


def test_pages_and_their_scripts_work_under_the_policy(owner_page, live_server, owned):
    page, refused = owner_page
    ids = owned["ids"]
    for path in (f"/projects/{ids['project_id']}/", f"/library/items/{ids['item_id']}/", "/generation/"):
        visit(page, live_server.url + path)
    visit(page, live_server.url + f"/generation/new/?model={ids['run_id']}")
    # app.js reads the trigger words from the json_script block and explains when it adds one.
    page.get_by_label("Prompt", exact=True).fill("on a marble counter")
    page.locator("[data-trigger-note]").filter(has_text="will be added").wait_for()
    assert page.evaluate("window.__violations") == []
    assert refused == []


def test_the_api_docs_render_under_their_policy(owner_page, live_server):
    page, refused = owner_page
    visit(page, live_server.url + "/api/v1/docs/")
    page.locator(".opblock-summary-path", has_text="/api/v1/projects/").first.wait_for()
    assert page.evaluate("window.__violations") == []
    visit(page, live_server.url + "/api/v1/redoc/")
    page.get_by_role("heading", name="Create a project").wait_for()
    # Redoc's "powered by" logo comes from its CDN: refused on purpose, the docs call no third party.
    assert page.evaluate("window.__violations") == ["img-src https://cdn.redoc.ly/redoc/logo-mini.svg"]
    assert [message for message in refused if "cdn.redoc.ly" not in message] == []
