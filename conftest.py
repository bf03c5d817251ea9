import os
import shutil

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the test makes
# around it are still synchronous, so Django's async-safety guard must not trip on them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


def pytest_addoption(parser):
    parser.addoption(
        "--expect-services",
        default="",
        help="Comma list the run must really use, e.g. 'mysql,redis'; the session stops if it does not.",
    )
    parser.addoption(
        "--fuzz-examples",
        type=int,
        default=12,
        help="Examples of the provider fuzzer (fuzz/); `make fuzz-providers` runs thousands.",
    )
    parser.addoption("--fuzz-report", default="", help="Write the provider fuzzer's totals to this JSON file.")
    parser.addoption(
        "--require-browser",
        action="store_true",
        help="Fail, rather than skip, browser tests when Chromium is not installed (CI sets this).",
    )


@pytest.fixture(scope="session", autouse=True)
def _services_in_use(request, django_db_setup, django_db_blocker):
    """CI's second pass must not silently fall back to SQLite or the filesystem broker."""
    expected = {name for name in request.config.getoption("--expect-services").split(",") if name}
    if not expected:
        return
    from django.db import connection

    from photoagent.celery import app as celery_app

    with django_db_blocker.unblock():
        in_use = {connection.vendor}
    if celery_app.conf.broker_url.startswith("redis://"):
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
        in_use.add("redis")
    if not expected <= in_use:
        pytest.exit(f"expected to run on {sorted(expected)}, but the suite runs on {sorted(in_use)}", returncode=3)


@pytest.fixture(scope="session", autouse=True)
def _compiled_translations():
    """Pages are rendered in every shipped language: the .mo files must match the .po catalogs."""
    from core import i18n

    i18n.compile_catalogs()


@pytest.fixture(autouse=True)
def _language_reset():
    """Each test starts and ends in English. A request in another language leaves that language
    active in the thread (LocaleMiddleware activates it per request, nothing deactivates it), and
    code a later test calls without a request would speak it."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def chromium_path(request):
    if shutil.which(CHROMIUM) is None:
        if request.config.getoption("--require-browser"):
            pytest.fail(f"{CHROMIUM} is required for the browser journey (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed; .ci/run installs it and runs this test")
    return CHROMIUM


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters and lockouts must not leak from one test into the next.
    from django.core.cache import cache

    from core.ratelimit import limit_cache

    cache.clear()
    limit_cache.clear()
    yield
    cache.clear()
    limit_cache.clear()


@pytest.fixture(autouse=True)
def _fresh_media_storage(settings):
    # A new in-memory storage per test, so files never leak from one test into the next.
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}


@pytest.fixture
def operator_client(client, db):
    """A client logged in as a superuser (the admin)."""
    from accounts.tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the code inside, then every on-commit callback (the queued tasks) it produced."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def instant_demo(settings):
    """Train and generate on the demo simulators: a training finishes at its first poll, a
    generation as soon as it is submitted."""
    settings.TRAINING_BACKEND = "training.backends.demo.DemoTrainingBackend"
    settings.DEMO_TRAINING_SECONDS = 0
    settings.GENERATION_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.GENERATION_BASE_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.DEMO_GENERATION_SECONDS = 0


@pytest.fixture
def owner(db):
    """A user who owns what the test makes."""
    from accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def worker_retries(monkeypatch):
    """Eager tasks retry as a worker would, at once, instead of raising Retry to the caller; when
    retries run out the task fails (and its on_failure runs)."""
    from photoagent.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)


@pytest.fixture
def broker_down():
    """Every message sent to the broker fails, as in an outage; returns a switch to end it."""
    from celery.app.task import Task
    from kombu.exceptions import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    outage = pytest.MonkeyPatch()
    outage.setattr(Task, "delay", refuse)
    yield outage.undo
    outage.undo()


@pytest.fixture
def sendgrid(settings):
    """The real SendGrid email backend, pointed at a local stand-in of SendGrid's v3 API."""
    from standins.sendgrid import serving

    with serving(settings) as server:
        yield server


@pytest.fixture
def fresh_indexes():
    """The search indexes live in the process, keyed by user id: a reused id must not see old vectors."""
    from library import index, ranking

    index.forget()
    ranking.forget()
    yield
    index.forget()
    ranking.forget()


@pytest.fixture
def small_test_photos(settings):
    """Accept the real test photos (skimage's coffee, astronaut: 400-512 px on their short side)."""
    settings.PHOTO_MIN_SIDE = 256


@pytest.fixture
def photo(owner, run_on_commit):
    """One of `owner`'s photos, uploaded and processed (ready)."""
    from projects import services as project_services
    from projects.models import Photo
    from projects.tests.factories import ProjectFactory, photo_upload

    project = ProjectFactory(owner=owner)
    with run_on_commit():
        uploaded = project_services.photo_upload(project=project, files=[photo_upload(1)]).accepted[0]
    uploaded.refresh_from_db()
    assert uploaded.status == Photo.Status.READY
    return uploaded


@pytest.fixture
def image(owner, run_on_commit):
    """One image generated for `owner` from the base model (the demo backend under instant_demo)."""
    from generation import services as generation_services

    with run_on_commit():
        generation = generation_services.generation_create(
            user=owner, training_run=None, prompt="a lighthouse on a cliff", num_outputs=1, seed=3
        )
    return generation.images.get()
