"""A visitor who reads Spanish, in a real headless Chromium against a live server: the footer's
language switcher, then sign-up, the verification email, a project of 15 described photos, a demo
training and its email, and a generated image, without meeting an English sentence.

Every page (after its live updates settle), every confirm dialog and every email is read with
tests/english.py. What is English is collected with the page it was on and reported all at once at
the end, as a checklist; the steps find their way by URLs and element names, never by English words.
"""

import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse

from tests.english import EnglishDetector, app_vocabulary, english_in
from tests.support import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGE = "es"
EMAIL = "lucia@example.com"
PASSWORD = "una frase de paso bastante larga"
DISPLAY_NAME = "Lucía"
PROJECT_NAME = "Taza de cerámica azul"
SUBJECT = "nuestra taza de cerámica, esmaltada en azul"
TRIGGER_WORD = "TOK"
PROMPT = "retrato de TOK en una playa al atardecer"
PHOTO_COUNT = 15


def description(index: int) -> str:
    return f"la taza azul, vista {index + 1}, sobre una mesa de madera"


# Everything the visitor typed: it is shown back as typed, in whatever language it was typed in.
USER_DATA = [EMAIL, DISPLAY_NAME, PROJECT_NAME, SUBJECT, TRIGGER_WORD, PROMPT] + [
    description(index) for index in range(PHOTO_COUNT)
]

# The text a page shows and the attributes a reader sees or a screen reader reads out. The log tail
# of a training run is the provider's own output, shown as a terminal would, and an element marked
# translate="no" says it is not to be translated.
PAGE_TEXTS = """() => {
  const skipped = Array.from(document.querySelectorAll('pre.logs, [translate="no"]'));
  const outside = (el) => !skipped.some((skip) => skip.contains(el));
  let body = document.body.innerText;
  skipped.forEach((el) => { if (el.innerText) body = body.split(el.innerText).join("\\n"); });
  const texts = [document.title, body];
  const attributes = ["title", "placeholder", "aria-label", "aria-description", "alt", "data-confirm",
                      "data-confirm-selection"];
  document.querySelectorAll(attributes.map((name) => `[${name}]`).join(",")).forEach((el) => {
    if (!outside(el) || el.tagName === "LINK") return;
    attributes.forEach((name) => { const value = el.getAttribute(name); if (value) texts.push(value); });
  });
  document.querySelectorAll("input[type=submit], input[type=button], input[type=reset]").forEach((el) => {
    if (outside(el) && el.value) texts.push(el.value);
  });
  document.querySelectorAll("select option").forEach((el) => { if (outside(el)) texts.push(el.textContent); });
  return texts;
}"""


@dataclass
class Finding:
    text: str
    why: str
    where: list[str] = field(default_factory=list)


class Reader:
    """Reads each page of the journey, and the emails, for English; keeps every finding with where
    it was seen, and the journey's other problems (a missing switcher, a wrong `lang`)."""

    def __init__(self, page, language: str):
        self.page = page
        self.language = language
        self.detector = EnglishDetector(user_data=USER_DATA, vocabulary=app_vocabulary(language))
        self.findings: dict[str, Finding] = {}
        self.problems: dict[str, list[str]] = {}
        self._pending: set = set()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)
        page.on("dialog", self._dialog)
        self._step = ""

    def _started(self, request) -> None:
        self._pending.add(request)

    def _ended(self, request) -> None:
        self._pending.discard(request)

    def where(self, step: str) -> str:
        return f"{step} ({urlsplit(self.page.url).path})"

    def _record(self, texts, where: str) -> None:
        for english in english_in(texts, self.detector):
            finding = self.findings.setdefault(english.text, Finding(english.text, english.why))
            if where not in finding.where:
                finding.where.append(where)

    def _dialog(self, dialog) -> None:
        self._record([dialog.message], f"{self._step}, {dialog.type} dialog")
        dialog.accept()

    def settle(self, quiet: float = 0.4, seconds: float = 30) -> None:
        """Wait until the page has loaded and no request (a live update, a save) has been in flight
        for `quiet` seconds."""
        self.page.wait_for_load_state("load")
        deadline = time.monotonic() + seconds
        quiet_since = None
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(100)  # lets Playwright deliver the request events
            if self._pending:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return
        raise AssertionError(f"the page kept loading for {seconds} s: {sorted(r.url for r in self._pending)}")

    def read(self, step: str) -> str:
        """Reads the page as it is once settled; returns its visible text."""
        self._step = step
        self.settle()
        where = self.where(step)
        lang = self.page.evaluate("document.documentElement.lang")
        if not lang.startswith(self.language):
            self.note(where, f'the page says <html lang="{lang}">, not "{self.language}"')
        texts = self.page.evaluate(PAGE_TEXTS)
        self._record(texts, where)
        return texts[1]

    def read_email(self, message, step: str) -> None:
        where = f"{step} email to {', '.join(message.to)}"
        texts = [message.subject, message.body]
        texts += [html_text(content) for content, mimetype in message.alternatives if mimetype == "text/html"]
        self._record(texts, where)

    def note(self, where: str, problem: str) -> None:
        self.problems.setdefault(problem, [])
        if where not in self.problems[problem]:
            self.problems[problem].append(where)

    def report(self) -> str:
        def seen(where: list[str]) -> str:
            return "; ".join(where[:3]) + (f" and {len(where) - 3} more" if len(where) > 3 else "")

        lines = [f"{len(self.findings)} English text(s) on the {self.language!r} journey:"]
        lines += [f"- {item.text!r}  [{item.why}]  on {seen(item.where)}" for item in self.findings.values()]
        if self.problems:
            lines.append(f"{len(self.problems)} other problem(s):")
            lines += [f"- {problem}: on {seen(where)}" for problem, where in self.problems.items()]
        return "\n".join(lines)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "head"):
            self._skip += 1
        for name, value in attrs:
            if name in ("alt", "title") and value:
                self.parts.append(f"\n{value}\n")
        if tag in ("p", "br", "div", "li", "tr", "h1", "h2", "h3", "td", "a"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("style", "script", "head") and self._skip:
            self._skip -= 1
        elif tag in ("p", "div", "li", "tr", "h1", "h2", "h3", "td", "a"):
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The text an email client shows for an HTML body, one block a line."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


@pytest.fixture
def page(chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        # An English-speaking browser: the visitor asks for Spanish with the switcher.
        context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        page.screenshot(path=str(tmp_path / "last-page.png"), full_page=True)
        browser.close()


def test_a_visitor_switches_to_spanish_and_meets_no_english_from_sign_up_to_a_generated_image(
    page, live_server, settings, tmp_path
):
    settings.SITE_URL = live_server.url
    settings.TRAINING_BACKEND = "training.backends.demo.DemoTrainingBackend"
    settings.DEMO_TRAINING_SECONDS = 3
    settings.GENERATION_BACKEND = settings.GENERATION_BASE_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.DEMO_GENERATION_SECONDS = 0
    reader = Reader(page, LANGUAGE)

    page.goto(live_server.url)
    switch_to_spanish_in_the_footer(page, reader, live_server)
    reader.read("home page")

    sign_up_with_a_typo_then_verify_the_email(page, reader)
    log_in(page, reader)
    create_a_project_upload_and_describe_15_photos(page, reader, tmp_path)
    train_the_model_and_get_the_email(page, reader)
    generate_two_images_and_open_one(page, reader)

    if reader.findings or reader.problems:
        pytest.fail(reader.report(), pytrace=False)  # the whole list, untruncated: a checklist


def switch_to_spanish_in_the_footer(page, reader, live_server):
    """The switcher: a form in the footer with a `language` select and a submit button, posting to
    accounts:set_language. Without it the journey goes on in Spanish by the language cookie, so the
    rest of the list is still useful, and the missing switcher is reported."""
    switcher = page.locator("footer form").filter(has=page.locator("select[name=language]"))
    if not switcher.count():
        reader.note("home page", "no language switcher in the footer (a form with a select named 'language')")
        page.context.add_cookies(
            [{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": LANGUAGE, "url": live_server.url}]
        )
        page.reload()
        return
    select = switcher.locator("select[name=language]")
    submit = switcher.locator("button, input[type=submit]").filter(visible=True)
    if submit.count():
        select.select_option(LANGUAGE)
        with page.expect_navigation():
            submit.first.click()
    else:  # the script hides the button and sends the form when the choice changes
        with page.expect_navigation():
            select.select_option(LANGUAGE)


def sign_up_with_a_typo_then_verify_the_email(page, reader):
    page.locator(f"main a[href='{reverse('accounts:signup')}']").first.click()
    page.wait_for_url(f"**{reverse('accounts:signup')}")
    reader.read("sign-up")

    form = page.locator("main form")
    form.locator("[name=email]").fill(EMAIL)
    form.locator("[name=display_name]").fill(DISPLAY_NAME)
    form.locator("[name=password1]").fill(PASSWORD)
    form.locator("[name=password2]").fill(PASSWORD + " y algo más")
    form.locator("button[type=submit]").click()
    page.locator(".field-invalid").first.wait_for()
    reader.read("sign-up, passwords that do not match")

    form.locator("[name=password1]").fill(PASSWORD)
    form.locator("[name=password2]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**{reverse('accounts:signup_done')}")
    reader.read("check your inbox")

    [message] = [message for message in mail.outbox if EMAIL in message.to]
    reader.read_email(message, "verification")
    link = re.search(r"https?://\S+/accounts/verify/\S+/", message.body).group(0)
    page.goto(link)
    page.wait_for_url(f"**{reverse('accounts:login')}*")
    reader.read("email verified, log in")


def log_in(page, reader):
    form = page.locator("main form")
    form.locator("[name=username]").fill(EMAIL)
    form.locator("[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**{reverse('projects:list')}")
    reader.read("your projects")


def create_a_project_upload_and_describe_15_photos(page, reader, tmp_path):
    from projects.tests.factories import encode, scene

    page.locator(f"main a[href='{reverse('projects:create')}']").first.click()
    page.wait_for_url(f"**{reverse('projects:create')}")
    reader.read("new project")
    form = page.locator("main form")
    form.locator("[name=name]").fill(PROJECT_NAME)
    form.locator("[name=category][value=product]").check()
    form.locator("[name=subject_description]").fill(SUBJECT)
    form.locator("[name=trigger_word]").fill(TRIGGER_WORD)
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/projects/\d+/$"))
    reader.read("project, no photos")

    files = []
    for seed in range(PHOTO_COUNT):
        path = tmp_path / f"taza-{seed:02d}.jpg"
        path.write_bytes(encode(scene(100 + seed, size=(1200, 1100)), quality=90))
        files.append(str(path))
    uploader = page.locator("form[data-upload]")
    uploader.locator("input[type=file]").set_input_files(files)
    assert uploader.locator("[data-previews] img").count() == PHOTO_COUNT
    uploader.locator("button[type=submit]").click()
    # Tests process each photo inside its upload request (eager tasks): give the 15 requests time.
    page.locator("[data-results] li").first.wait_for(timeout=90_000)
    page.locator("[data-live-id=photo-count]").filter(has_text=f"{PHOTO_COUNT} / {PHOTO_COUNT}").wait_for()
    reader.read("project, 15 photos uploaded")

    for index in range(PHOTO_COUNT):
        card = page.locator("form.describe").nth(index)
        card.locator("textarea").fill(description(index))
        card.locator("button[type=submit]").click()
        page.locator("[data-saved]").nth(index).filter(has_text=re.compile(r"\S")).wait_for()
        reader.settle(quiet=0.2)
        if index == 0:
            reader.read("project, first description saved")
    page.locator(".readiness .badge-ready").wait_for()
    reader.read("project, ready to train")


def train_the_model_and_get_the_email(page, reader):
    from training import services
    from training.models import TrainingRun

    page.locator("#train [name=preset][value=fast]").check()
    page.locator("#train-button").click()
    page.wait_for_url(re.compile(r"/training/runs/\d+/$"))
    reader.read("training, in progress")

    run = TrainingRun.objects.get()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not TrainingRun.objects.get(id=run.id).is_terminal:
        services.training_sync(run_id=run.id)  # what the beat's reconcile task does every few seconds
        time.sleep(0.5)
    # No reload: the page's own live update shows the end of the run.
    page.locator(".badge-run-succeeded").wait_for(timeout=20_000)
    reader.read("training, finished")
    [message] = [message for message in mail.outbox if EMAIL in message.to and "/training/runs/" in message.body]
    reader.read_email(message, "model ready")

    page.locator(f"header a[href='{reverse('training:models')}']").click()
    page.wait_for_url(f"**{reverse('training:models')}")
    reader.read("your models")


def generate_two_images_and_open_one(page, reader):
    page.locator(f"table a[href^='{reverse('generation:new')}?model=']").first.click()
    page.wait_for_url(f"**{reverse('generation:new')}?model=*")
    reader.read("generate")

    form = page.locator("form[data-generate]")
    form.locator("[name=prompt]").fill(PROMPT)
    form.locator("[name=num_outputs]").select_option("2")
    reader.read("generate, prompt typed")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    page.locator(".badge-run-succeeded").wait_for()
    page.locator(".image-tile").nth(1).wait_for()
    text = reader.read("generation, done")
    # Demo mode translates no prompt, and says so plainly (the words are the prompts engineer's).
    if "traduc" not in text.casefold():
        reader.note(reader.where("generation, done"), "no sentence says the prompt was not translated ('traduc…')")
    assert PROMPT in text

    page.locator(".image-tile").first.click()
    page.wait_for_url(re.compile(r"/images/\d+/$"))
    page.locator("figure img").wait_for()
    assert page.evaluate("(img) => img.naturalWidth", page.locator("figure img").element_handle()) > 0
    reader.read("generated image")

    page.locator(f"header a[href='{reverse('generation:gallery')}']").click()
    page.wait_for_url(f"**{reverse('generation:gallery')}")
    reader.read("your images")
    page.locator("[data-lightbox]").first.click()
    page.locator("dialog[open] img").wait_for()
    reader.read("your images, an image opened")
