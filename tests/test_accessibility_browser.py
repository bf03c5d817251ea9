"""Every page the URL conf offers, in a real Chromium: scanned by axe-core for WCAG 2.1 A and AA,
checked by keyboard (skip link, visible focus) and for references to ids that are not on the page,
and measured at 200 % zoom and phone widths for sideways scrolling.

Pages are found by walking the URL patterns, so a new page is scanned without being listed here;
a route that is neither a page nor a known action, file or redirect fails the walk instead of being
forgotten. One browser serves the whole module."""

import re
import time
import uuid
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.tokens import default_token_generator
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.tests.factories import UserFactory
from generation import services as generation_services
from generation.models import GeneratedImage, Generation
from library import services as library_services
from library.models import Album, ShareLink
from projects import services as project_services
from projects.models import Invitation, Photo
from projects.services import members as member_services
from tests.support import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
# Not walked: the JSON API (its docs pages are) and Django's admin, a vendored app (its pages drawn
# from our templates are scanned: `admin_pages`).
SKIPPED_PREFIXES = ("api/v1/", "^api", "admin/")
API_DOCS = {"api:docs", "api:redoc"}
# Swagger UI draws its widgets from its vendored assets: only the frame around them is ours.
VENDORED_PARTS = {"api:docs": ["#swagger-ui"]}
# GET answers these with a redirect on purpose ("make more like this" hands its form to generation's).
REDIRECTS = {"dashboard", "library:item_inspire"}
# Parts of a page that the page itself fetches and swaps in (live updates): scanned within their page.
FRAGMENTS = {"projects:live", "training:live", "generation:live"}
# Files reached only with a signed token made elsewhere (a training provider fetches the LoRA).
SIGNED_FILES = {"generation:lora"}
# Templates no plain GET reaches: served as the server would send them.
RENDERED = {
    "/__a11y/429/": ("429.html", {"message": "Too many attempts. Try again in a minute."}),
    "/__a11y/500/": ("500.html", {}),
    "/__a11y/locked-out/": ("accounts/locked_out.html", {}),
}
# 640 px is a 1280 px screen at 200 % zoom (WCAG 1.4.4); 390 and 320 px are phones (1.4.10).
NARROW_WIDTHS = [640, 390, 320]


@dataclass
class Page:
    name: str
    path: str
    anonymous: bool
    operator: bool = False  # a staff user, for the admin
    submit: str = ""  # a button to press first: the page as it answers a form sent empty
    click: str = ""  # something to open first (a dialog)


def routes():
    """(route, name) of every URL pattern, names with their namespaces."""

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            else:
                yield prefix + str(pattern.pattern), namespace + (pattern.name or "")

    return list(walk(get_resolver().url_patterns))


@pytest.fixture
def data_set(owned, settings):
    """`owned` (one of everything) plus what makes pages show their other parts: a photo flagged
    with a warning, a shared album beside the shared image, and a prompt as long as allowed."""
    owner = owned["owner"]
    long_prompt = ("the blue mug on a wooden table in soft morning light, " * 20)[
        : settings.GENERATION_PROMPT_MAX_CHARS
    ]
    Generation.objects.filter(id=owned["ids"]["generation_id"]).update(prompt=long_prompt)
    photo = Photo.objects.filter(project_id=owned["ids"]["project_id"]).order_by("id").last()
    Photo.objects.filter(id=photo.id).update(blur_score=0.0, description="a cup of coffee, a little blurry")
    album = Album.objects.get(id=owned["ids"]["album_id"])
    album_share = library_services.share_create(user=owner, album=album)
    values = {
        **owned["ids"],
        "object_id": album.items.order_by("albumitem__added_at").first().id,
        "uidb64": urlsafe_base64_encode(force_bytes(owner.pk)),
        "token": default_token_generator.make_token(owner),
    }
    # A link as the invitation email carries it: its page for someone signed out, and its sign-up.
    invitation = Invitation.objects.get(id=owned["ids"]["invitation_id"])
    invitation_link = member_services.invitation_make_token(invitation=invitation, send_number=invitation.send_count)
    tokens = {"s/": album_share.token, "accounts/verify/": "not-a-valid-token", "invitations/": invitation_link}
    # The trash's own pages name things in the trash: a spare copy of a photo, and one of the job's images.
    spare = Photo.objects.get(id=photo.id)
    spare.pk, spare.key, spare.sha256, spare.original_filename = None, uuid.uuid4(), "0" * 64, "spare.jpg"
    spare.save()
    project_services.photo_trash(photo=spare)
    trashed_image = GeneratedImage.objects.filter(generation_id=owned["ids"]["generation_id"]).order_by("index").last()
    generation_services.image_trash(image=trashed_image)
    in_trash = {"library/trash/": {"photo_id": spare.id, "image_id": trashed_image.id}}
    return {
        **owned,
        "values": values,
        "tokens": tokens,
        "in_trash": in_trash,
        "image_share": ShareLink.objects.get(id=owned["ids"]["share_id"]),
    }


def fill(route: str, data: dict) -> str:
    def value(match):
        name = match.group(1)
        if name == "token":
            for prefix, token in data["tokens"].items():
                if route.startswith(prefix):
                    return token
        for prefix, values in data["in_trash"].items():
            if route.startswith(prefix) and name in values:
                return str(values[name])
        assert name in data["values"], f"{route}: map the parameter {name!r} in the accessibility data set"
        return str(data["values"][name])

    return "/" + PARAMETER.sub(value, route)


def is_html_page(response) -> bool:
    # A page that refuses its input (a bad verification link) answers 400, with a page all the same.
    return response.status_code in (200, 400) and response["Content-Type"].startswith("text/html")


def pages(data) -> list[Page]:
    """Every route whose GET answers a page, visited anonymously where it opens without an account;
    then the states a GET does not show (forms with errors, a search, the lightbox, error pages)."""
    owner_client = Client()
    owner_client.force_login(data["owner"])
    found, unexplained = [], []
    for route, name in routes():
        if route.startswith(SKIPPED_PREFIXES) and name not in API_DOCS:
            continue
        path = fill(route, data)
        if name in FRAGMENTS:
            continue
        if is_html_page(Client().get(path)):
            found.append(Page(name, path, anonymous=True))
            continue
        response = owner_client.get(path)
        if is_html_page(response):
            found.append(Page(name, path, anonymous=False))
        elif response.status_code == 405 or (response.status_code == 200 and "html" not in response["Content-Type"]):
            continue  # the target of a form, or a file
        elif response.status_code in (302, 303) and name in REDIRECTS or name in SIGNED_FILES:
            continue
        else:
            unexplained.append(f"{name} {path}: {response.status_code} {response.get('Content-Type')}")
    assert not unexplained, "Neither a page, an action, a file nor a known redirect:\n" + "\n".join(unexplained)
    sent_empty = "main form[method=post] button[type=submit]"
    found += [
        Page("share:page (an image)", f"/s/{data['image_share'].token}/", anonymous=True),
        Page("404", "/no-such-page/", anonymous=True),
        Page("library:home (a search)", "/library/?q=coffee", anonymous=False),
        Page("generation:gallery (lightbox)", "/generation/", anonymous=False, click="[data-lightbox]"),
        *(Page(f"{name} (sent empty)", path, anonymous=True, submit=sent_empty) for name, path in ANONYMOUS_FORMS),
        *(Page(f"{name} (sent empty)", path, anonymous=False, submit=button) for name, path, button in OWNER_FORMS),
        *(Page(path, path, anonymous=True) for path in RENDERED),
        *(Page(path, path, anonymous=False, operator=True) for path in admin_pages(data)),
    ]
    return found


def admin_pages(data) -> list[str]:
    """The admin pages drawn from our own templates, and one list and form of Django's."""
    project_id = data["values"]["project_id"]
    return [
        "/admin/",
        "/admin/background-work/",
        "/admin/projects/project/",
        f"/admin/projects/project/{project_id}/change/",
    ]


ANONYMOUS_FORMS = [
    ("accounts:signup", "/accounts/signup/"),
    ("accounts:login", "/accounts/login/"),
    ("accounts:password_reset", "/accounts/password/reset/"),
]
OWNER_FORMS = [
    ("projects:create", "/projects/new/", "main form[method=post] button[type=submit]"),
    ("accounts:password_change", "/accounts/password/change/", "main form[method=post] button[type=submit]"),
    ("accounts:api_token_create", "/accounts/settings/", "text=Create token"),
]


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def contexts(browser, live_server, data, viewport) -> dict:
    """Browser contexts by `key(page)`: anonymous, the owner's and an operator's, each answering the
    RENDERED paths with their templates."""
    by_who = {True: browser.new_context(viewport=viewport)}
    for who, user in ((False, data["owner"]), ("operator", UserFactory(is_staff=True, is_superuser=True))):
        client = Client()
        client.force_login(user)
        by_who[who] = browser.new_context(viewport=viewport)
        by_who[who].add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
        )
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    for context in by_who.values():
        for path, (template, extra) in RENDERED.items():
            context.route(live_server.url + path, serve(render_to_string(template, extra, request=request)))
    return by_who


def key(entry: Page):
    return "operator" if entry.operator else entry.anonymous


def serve(body: str):
    return lambda route: route.fulfill(body=body, content_type="text/html")


def open_page(contexts_by_who, live_server, entry: Page):
    page = contexts_by_who[key(entry)].new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + entry.path)
    if entry.name in API_DOCS:
        page.wait_for_load_state("networkidle")  # the docs are drawn by script, from the schema
    if entry.submit:
        with page.expect_navigation():
            page.locator(entry.submit).first.click()
    if entry.click:
        page.locator(entry.click).first.click()
    return page


AXE_RUN = """async ([exclude, tags]) => {
  const results = await axe.run({include: [document], exclude}, {runOnly: {type: "tag", values: tags}});
  return results.violations.map((v) => `${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}"""

# aria-describedby and friends name ids; axe only reports a missing one as "needs review".
MISSING_IDS = """() => {
  const missing = [];
  const attributes = [
    "aria-describedby", "aria-labelledby", "aria-controls", "aria-errormessage", "for", "form", "list",
  ];
  for (const attribute of attributes) {
    for (const element of document.querySelectorAll(`[${attribute}]`)) {
      if (attribute === "for" && element.tagName !== "LABEL") continue;
      for (const id of element.getAttribute(attribute).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) missing.push(`${element.tagName.toLowerCase()}[${attribute}="${id}"]`);
      }
    }
  }
  return missing;
}"""

FIRST_TAB_STOP = """() => {
  const focusable = 'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])';
  const first = [...document.querySelectorAll(focusable)].find((element) => !element.disabled);
  return first ? (first.className || first.outerHTML.slice(0, 60)) : "nothing";
}"""

# The focus ring of the first radio, checkbox and file input, after reaching each by keyboard.
FOCUS_RING = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  let behind = element.parentElement;
  const clear = (colour) => /^(rgba\\(0, 0, 0, 0\\)|transparent)$/.test(colour);
  while (behind && clear(getComputedStyle(behind).backgroundColor)) {
    behind = behind.parentElement;
  }
  return {
    type: element.type || element.tagName.toLowerCase(),
    visible: element.matches(":focus-visible"),
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    color: style.outlineColor,
    behind: behind ? getComputedStyle(behind).backgroundColor : "rgb(255, 255, 255)",
  };
}"""


def luminance(css_colour: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"[\d.]+", css_colour)[:3])
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def axe_violations(page, exclude) -> list[str]:
    from axe_playwright_python.base import AXE_SCRIPT

    page.evaluate(AXE_SCRIPT)
    return page.evaluate(AXE_RUN, [[[selector] for selector in exclude], WCAG_21_AA])


def keyboard_problems(page) -> list[str]:
    problems = []
    if page.locator("header.topbar").count():
        first = page.evaluate(FIRST_TAB_STOP)
        if first != "skip-link":
            problems.append(f"the first tab stop is {first!r}, not the skip link")
        else:
            page.locator(".skip-link").focus()
            if page.locator(".skip-link").bounding_box()["y"] < 0:
                problems.append("the skip link stays off-screen when focused")
            page.keyboard.press("Enter")
            if page.evaluate("document.activeElement.id") != "main":
                problems.append("the skip link does not move the focus to the content")
    for kind in ("radio", "checkbox", "file"):
        control = page.locator(f"main input[type={kind}]:visible").first
        if not control.count():
            continue
        control.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # into a group of radios, onto its checked one
        ring = page.evaluate(FOCUS_RING)
        ratio = contrast(ring["color"], ring["behind"])
        if ring["type"] != kind or not ring["visible"]:
            problems.append(f"Tab does not come back to the {kind} input (it reaches a {ring['type']})")
        elif ring["style"] == "none" or ring["width"] < 2 or ratio < 3:
            problems.append(f"the {kind} input's focus ring is {ring['width']}px {ring['style']} at {ratio:.1f}:1")
    return problems


# Rows of buttons line up; every text field and select looks alike; read-only fields (a share link
# to copy) show their whole value.
LAYOUT = """() => {
  const problems = [];
  for (const row of document.querySelectorAll("main .actions")) {
    const controls = [...row.querySelectorAll("a, button, select")];
    const boxes = controls.map((control) => control.getBoundingClientRect()).filter((box) => box.height);
    for (const box of boxes) {
      const line = boxes.filter((other) => other.top < box.bottom && box.top < other.bottom);
      const centres = line.map((other) => other.top + other.height / 2);
      if (Math.max(...centres) - Math.min(...centres) > 2) {
        problems.push(`the buttons of ${row.className} in ${row.parentElement.className} are not aligned`);
        break;
      }
    }
  }
  document.activeElement.blur();  // a focused or invalid field is marked on purpose
  const fields = "main :is(input:not([type=hidden],[type=radio],[type=checkbox],[type=file]), select, textarea)";
  const looks = new Set();
  for (const field of document.querySelectorAll(fields)) {
    if (!field.offsetParent || field.getAttribute("aria-invalid") === "true") continue;
    const style = getComputedStyle(field);
    looks.add(`${style.borderTopColor} ${style.borderTopLeftRadius} ${style.paddingLeft} ${style.fontSize}`);
    if (field.readOnly && field.scrollWidth > field.clientWidth) {
      problems.push(`${field.outerHTML.slice(0, 80)} is cut off`);
    }
  }
  if (looks.size > 1) problems.push(`the form fields come in ${looks.size} looks: ${[...looks].join(" | ")}`);
  return problems;
}"""

# Everything one can press in an open dialog is on screen.
DIALOG_OFF_SCREEN = """() => [...document.querySelectorAll("dialog[open] :is(a, button)")]
  .filter((control) => { const box = control.getBoundingClientRect(); return box.top < 0 || box.bottom > innerHeight; })
  .map((control) => `${control.textContent.trim()} in the open dialog is off-screen`)"""


def test_every_page_passes_axe_and_the_keyboard(browser, live_server, data_set):
    started = time.monotonic()
    found = pages(data_set)
    by_who = contexts(browser, live_server, data_set, {"width": 1280, "height": 900})
    failures = []
    for entry in found:
        page = open_page(by_who, live_server, entry)
        problems = axe_violations(page, VENDORED_PARTS.get(entry.name, []))
        problems += [f"no element has the id in {reference}" for reference in page.evaluate(MISSING_IDS)]
        problems += page.evaluate(DIALOG_OFF_SCREEN)
        if not entry.operator:  # the admin keeps Django's own look and focus rings
            problems += [] if entry.click else keyboard_problems(page)  # an open dialog holds the focus
            problems += [] if entry.name in API_DOCS else page.evaluate(LAYOUT)  # Redoc's fields are its own
        failures += [f"{entry.name} {entry.path}: {problem}" for problem in problems]
        page.close()
    print(f"\naccessibility: {len(found)} pages scanned in {time.monotonic() - started:.0f} s")
    assert len(found) > 40
    assert not failures, f"{len(failures)} problem(s):\n" + "\n".join(failures)


def test_no_page_scrolls_sideways_zoomed_or_on_a_phone(browser, live_server, data_set):
    started = time.monotonic()
    found = pages(data_set)
    by_who = contexts(browser, live_server, data_set, {"width": NARROW_WIDTHS[0], "height": 800})
    overflowing = []
    for entry in [entry for entry in found if not entry.operator]:  # Django's admin is for a desk
        page = open_page(by_who, live_server, entry)
        for width in NARROW_WIDTHS:  # one load, narrowed step by step: the layout follows
            page.set_viewport_size({"width": width, "height": 800})
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                overflowing.append(f"{entry.name} {entry.path}: {scroll_width} px wide at {width} px")
            overflowing += [
                f"{entry.name} {entry.path} at {width} px: {problem}" for problem in page.evaluate(DIALOG_OFF_SCREEN)
            ]
        page.close()
    print(f"\nnarrow widths: {len(found)} pages measured in {time.monotonic() - started:.0f} s")
    assert not overflowing, "Wider than the screen:\n" + "\n".join(overflowing)
