"""A team at work on one project, in real Chromium sessions on the ASGI server (photoagent.asgi under
uvicorn, the live pages' WebSocket included): the owner invites an editor through the members page,
the editor takes the emailed link, joins, uploads and describes a photo, and the owner watches each
step appear without a reload and without losing what they are typing. A viewer sees no write
controls and is refused when forcing them; a non-member gets 404; a newcomer signs up through the
link and lands in the project."""

import re
from types import SimpleNamespace

import pytest
from django.core import mail
from django.test import Client

from accounts.tests.factories import UserFactory
from projects import services as project_services
from projects.models import Membership, Photo, Role
from projects.tests.factories import ProjectFactory, encode, photo_upload, scene
from tests.support import CHROMIUM_ARGS
from training.models import TrainingRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set on the first load; a reload would lose it.
NOT_RELOADED = "window.__notReloaded === true"
LIVE = "() => document.documentElement.dataset.live === 'live'"
# What a change by someone else may take to reach the watcher's screen here (the issue asks for about a second).
SOON = 5_000


@pytest.fixture
def team(settings, chromium_path, asgi_live_server):
    """Browser contexts on the ASGI server: `team.page(user)` signed in, `team.page()` signed out.
    Emailed links point at the server (SITE_URL), so a test follows them as they are. Chromium starts
    at the first page: Playwright's event loop then runs in this thread, where the test's own writes
    could no longer publish their live events (core.live), so a test makes its data first."""
    from playwright.sync_api import sync_playwright

    settings.SITE_URL = asgi_live_server.url
    settings.PHOTO_MIN_SIDE = 256
    started = []

    def page(user=None):
        if not started:
            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
            started.append((playwright, browser))
        browser = started[0][1]
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        if user is not None:
            client = Client()
            client.force_login(user)
            context.add_cookies(
                [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": asgi_live_server.url}]
            )
        new = context.new_page()
        new.set_default_timeout(15_000)
        return new

    yield SimpleNamespace(page=page, url=asgi_live_server.url)
    for playwright, browser in started:
        browser.close()
        playwright.stop()


def project_with_ready_photos(owner, count):
    project = ProjectFactory(owner=owner, name="Mugs for the shop")
    accepted = project_services.photo_upload(
        project=project, files=[photo_upload(seed, size=(1200, 1100)) for seed in range(count)], actor=owner
    ).accepted
    for photo in accepted:
        project_services.photo_process(photo_id=photo.id)
    assert Photo.objects.filter(project=project, status=Photo.Status.READY).count() == count
    return project, [photo.id for photo in accepted]


def open_live(page, url):
    page.goto(url)
    page.evaluate("window.__notReloaded = true")
    page.wait_for_function(LIVE)


def the_link_emailed_to(address):
    (message,) = [message for message in mail.outbox if address in message.to]
    (link,) = re.findall(r"https?://\S+/invitations/\S+/", message.body)
    return link


def test_the_owner_invites_an_editor_who_joins_uploads_and_describes_while_the_owner_watches(team, tmp_path):
    from playwright.sync_api import expect

    owner = UserFactory(display_name="Olga")
    editor = UserFactory(display_name="Edith", email="edith@example.com")
    project, photo_ids = project_with_ready_photos(owner, 3)
    project_url = f"{team.url}/projects/{project.id}/"
    watcher = team.page(owner)

    # The owner reaches the members page from the project page and invites through its form.
    watcher.goto(project_url)
    watcher.get_by_role("link", name="Members").click()
    watcher.get_by_label("Email").fill("Edith@Example.com")
    watcher.get_by_label("Role").select_option(label="Editor")
    watcher.get_by_role("button", name="Send invitation").click()
    watcher.get_by_text("Invitation sent to edith@example.com.").wait_for()
    expect(watcher.locator("[data-invitation]")).to_have_count(1)
    link = the_link_emailed_to("edith@example.com")

    # The owner goes back to the project and starts describing a photo of their own.
    open_live(watcher, project_url)
    mine = watcher.locator(f"#id_photo-{photo_ids[0]}-description")
    mine.click()
    watcher.keyboard.type("the owner, half a sent")

    # The editor opens the emailed link in their own browser, accepts, and lands in the project.
    joiner = team.page(editor)
    joiner.goto(link)
    joiner.get_by_role("heading", name="Join “Mugs for the shop”?").wait_for()
    joiner.get_by_role("button", name="Accept").click()
    joiner.wait_for_url(project_url)
    joiner.get_by_text("You joined “Mugs for the shop” as Editor.").wait_for()
    expect(joiner.get_by_test_id("project-role")).to_have_text("Your role: Editor")
    assert Membership.objects.get(project=project, user=editor).role == Role.EDITOR
    expect(watcher.locator("#activity").get_by_text("Edith joined the project as Editor.")).to_be_visible(timeout=SOON)

    # The editor uploads through the page's uploader: the photo appears on the owner's page.
    joiner.evaluate("window.__notReloaded = true")
    joiner.wait_for_function(LIVE)
    upload = tmp_path / "red-mug.jpg"
    upload.write_bytes(encode(scene(77, size=(1200, 1100)), quality=85))
    joiner.get_by_label("Choose photos").set_input_files(str(upload))
    joiner.get_by_role("button", name="Upload").click()
    joiner.get_by_text("1 of 1 photo uploaded").wait_for(timeout=30_000)
    theirs = Photo.objects.get(project=project, original_filename="red-mug.jpg")
    expect(watcher.locator(f"#photo-{theirs.id}")).to_be_visible(timeout=SOON)
    expect(watcher.locator("#activity").get_by_text("Edith uploaded", exact=False)).to_be_visible(timeout=SOON)

    # The editor describes it through the page's box: the description appears on the owner's page.
    joiner.locator(f"#id_photo-{theirs.id}-description").fill("a red mug on a desk")
    joiner.locator(f"#photo-{theirs.id} form.describe button").click()
    joiner.locator(f"#photo-{theirs.id} [data-saved]").filter(has_text="Description saved.").wait_for()
    expect(watcher.locator(f"#photo-{theirs.id} img[alt='a red mug on a desk']")).to_be_attached(timeout=SOON)
    expect(watcher.locator("#activity").get_by_text("Edith described", exact=False)).to_be_visible(timeout=SOON)

    # All along, the owner's half-typed text and focus stayed, and their page never reloaded.
    assert mine.input_value() == "the owner, half a sent"
    assert watcher.evaluate("document.activeElement.id") == f"id_photo-{photo_ids[0]}-description"
    assert watcher.evaluate(NOT_RELOADED)
    assert joiner.evaluate(NOT_RELOADED)


FORCE_POST = """async ({url, fields}) => {
  const body = new FormData();
  body.append('csrfmiddlewaretoken', document.querySelector('[name=csrfmiddlewaretoken]').value);
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  const response = await fetch(url, {method: 'POST', body, redirect: 'manual'});
  return response.status;
}"""


def test_a_viewer_sees_no_write_controls_and_is_refused_when_forcing_them_and_an_outsider_gets_404(team, settings):
    from playwright.sync_api import expect

    settings.PROJECT_PHOTOS_MIN = 3  # ready to train: the owner would see the Train button
    owner = UserFactory()
    project, photo_ids = project_with_ready_photos(owner, 3)
    for photo_id in photo_ids:
        project_services.photo_update_description(photo=Photo.objects.get(id=photo_id), description="a blue mug")
    viewer, outsider = UserFactory(display_name="Vera"), UserFactory()
    Membership.objects.create(project=project, user=viewer, role=Role.VIEWER)
    project_url = f"{team.url}/projects/{project.id}/"

    # The owner's page has the controls the viewer's must not (so their absence below means something).
    owners = team.page(owner)
    owners.goto(project_url)
    expect(owners.get_by_role("button", name="Train")).to_be_visible()
    expect(owners.get_by_label("Choose photos")).to_be_attached()

    page = team.page(viewer)
    open_live(page, project_url)
    expect(page.get_by_test_id("project-role")).to_have_text("Your role: Viewer")
    expect(page.locator("[data-photo-id]")).to_have_count(3)
    expect(page.get_by_test_id("read-only-note")).to_be_visible()
    assert page.locator("[data-upload], input[type=file]").count() == 0
    assert page.locator("textarea, form[data-describe]").count() == 0
    assert page.get_by_role("button", name="Delete").count() == 0
    assert page.get_by_role("link", name="Delete").count() == 0
    assert page.get_by_role("link", name="Edit").count() == 0
    assert page.get_by_role("button", name="Train").count() == 0
    expect(page.get_by_test_id("train-owner-only")).to_be_visible()

    # The members page: who is in the project, and nothing to manage.
    page.get_by_role("link", name="Members").click()
    expect(page.locator("[data-member]")).to_have_count(2)
    assert page.get_by_role("button", name="Send invitation").count() == 0
    assert page.get_by_role("button", name="Remove").count() == 0
    assert page.get_by_role("button", name="Change role").count() == 0
    assert page.get_by_role("button", name="Transfer ownership").count() == 0
    expect(page.get_by_role("button", name="Leave project")).to_be_visible()

    # Forcing the write URLs from the page, with its CSRF token: refused, and nothing changes.
    page.goto(project_url)
    forced = {
        f"/projects/{project.id}/photos/": {},
        f"/projects/{project.id}/photos/{photo_ids[0]}/delete/": {},
        f"/projects/{project.id}/photos/{photo_ids[0]}/description/": {f"photo-{photo_ids[0]}-description": "forced"},
        f"/projects/{project.id}/members/": {"email": "friend@example.com", "role": "editor"},
        f"/training/projects/{project.id}/train/": {"preset": "fast"},
        f"/projects/{project.id}/delete/": {},
    }
    statuses = {url: page.evaluate(FORCE_POST, {"url": url, "fields": fields}) for url, fields in forced.items()}
    assert statuses == dict.fromkeys(forced, 403)
    assert set(Photo.objects.filter(project=project).values_list("description", "trashed_at")) == {("a blue mug", None)}
    assert not project.invitations.exists()
    assert not TrainingRun.objects.filter(project=project).exists()

    # Someone outside the project: the project is not there for them.
    stranger = team.page(outsider)
    assert stranger.goto(project_url).status == 404
    assert stranger.goto(f"{team.url}/projects/{project.id}/members/").status == 404


def test_a_newcomer_signs_up_through_the_invitation_link_and_lands_in_the_project(team, run_on_commit):
    from playwright.sync_api import expect

    owner = UserFactory(display_name="Olga")
    project, _ = project_with_ready_photos(owner, 1)
    with run_on_commit():
        project_services.invitation_create(actor=owner, project=project, email="newcomer@example.com", role="viewer")
    link = the_link_emailed_to("newcomer@example.com")
    watcher = team.page(owner)
    open_live(watcher, f"{team.url}/projects/{project.id}/")

    page = team.page()
    page.goto(link)
    page.get_by_role("heading", name="You have been invited to a project").wait_for()
    assert "Mugs for the shop" not in page.content()  # the link's holder may be anyone until they sign in
    page.locator("#main").get_by_role("link", name="Sign up").click()
    expect(page.get_by_label("Email")).to_have_value("newcomer@example.com")
    expect(page.get_by_label("Email")).to_be_disabled()
    page.get_by_label("Display name").fill("Nico")
    page.get_by_label("Password", exact=True).fill("a long enough passphrase")
    page.get_by_label("Confirm password").fill("a long enough passphrase")
    page.get_by_role("button", name="Sign up and join").click()
    page.wait_for_url(f"{team.url}/projects/{project.id}/")
    page.get_by_text("You joined “Mugs for the shop” as Viewer.").wait_for()
    expect(page.get_by_test_id("project-role")).to_have_text("Your role: Viewer")
    newcomer = Membership.objects.select_related("user").get(project=project, role=Role.VIEWER).user
    assert newcomer.email == "newcomer@example.com"
    assert newcomer.email_verified_at is not None
    expect(watcher.locator("#activity").get_by_text("Nico joined the project as Viewer.")).to_be_visible(timeout=SOON)
    assert watcher.evaluate(NOT_RELOADED)
