"""Pages that change while work runs (project, training run, generation job) update themselves in place.

Each page holds a [data-live-url] region that static/js/app.js polls while data-live-active is "true", swapping
only the [data-live-id] leaves that changed: no meta refresh, no reload, nothing the user typed is replaced.
"""

import re
from html.parser import HTMLParser

import pytest

from accounts.tests.factories import UserFactory
from generation import services as generation_services
from generation.tests.factories import trained_model
from projects.tests.factories import ProjectFactory, photo_upload
from training import services as training_services
from training.tests.factories import ready_project

pytestmark = pytest.mark.django_db

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Tree(HTMLParser):
    """Just enough of a DOM: each element's tag, attributes and the live ids of its ancestors."""

    def __init__(self):
        super().__init__()
        self.stack, self.elements = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        element = {
            "tag": tag,
            "attrs": attrs,
            "live_ancestors": [e["attrs"]["data-live-id"] for e in self.stack if "data-live-id" in e["attrs"]],
        }
        self.elements.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()["tag"] != tag:
            pass


def parse(html: str) -> list[dict]:
    tree = _Tree()
    tree.feed(html)
    return tree.elements


def live_ids(html: str) -> list[str]:
    return re.findall(r'data-live-id="([^"]+)"', html)


@pytest.fixture
def slow_work(settings):
    """Training and generation on the demo simulator, slow enough to still be running when the page is read."""
    settings.TRAINING_BACKEND = "training.backends.demo.DemoTrainingBackend"
    settings.GENERATION_BACKEND = settings.GENERATION_BASE_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.DEMO_TRAINING_SECONDS = settings.DEMO_GENERATION_SECONDS = 600


def project_with_a_processing_photo():
    project = ProjectFactory()
    from projects import services

    services.photo_upload(project=project, files=[photo_upload(1)])  # its processing task is not run
    return project.owner, f"/projects/{project.id}/", f"/projects/{project.id}/live/"


def active_run(run_on_commit):
    project = ready_project()
    with run_on_commit():
        run = training_services.training_start(project=project, preset="fast")
    return project.owner, f"/training/runs/{run.id}/", f"/training/runs/{run.id}/live/"


def active_job(run_on_commit):
    run = trained_model()
    with run_on_commit():
        job = generation_services.generation_create(user=run.project.owner, training_run=run, prompt="on a beach")
    return run.project.owner, f"/generation/jobs/{job.id}/", f"/generation/jobs/{job.id}/live/"


PAGES = {"project": project_with_a_processing_photo, "run": active_run, "job": active_job}


def work_in_progress(name, run_on_commit):
    make = PAGES[name]
    return make() if name == "project" else make(run_on_commit)


@pytest.mark.parametrize("name", PAGES)
def test_a_page_with_work_in_progress_polls_its_own_region_instead_of_reloading(name, client, slow_work, run_on_commit):
    owner, page_url, live_url = work_in_progress(name, run_on_commit)
    client.force_login(owner)
    page = client.get(page_url).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert f'data-live-url="{live_url}" data-live-active="true"' in page

    region = client.get(live_url)
    assert region.status_code == 200
    assert "no-store" in region["Cache-Control"]  # never a stale state from a cache
    html = region.content.decode()
    assert html.lstrip().startswith("<div")
    assert "<html" not in html
    assert f'data-live-url="{live_url}" data-live-active="true"' in html
    # The region renders the same leaves as the page, so each one can be swapped by its id.
    assert live_ids(html) == live_ids(page)
    assert len(live_ids(html)) >= 2


@pytest.mark.parametrize("name", PAGES)
def test_a_live_region_is_its_owners_only(name, client, slow_work, run_on_commit):
    _, _, live_url = work_in_progress(name, run_on_commit)
    assert client.get(live_url).status_code == 302  # to the login page
    client.force_login(UserFactory())
    assert client.get(live_url).status_code == 404


def test_polling_stops_when_the_work_is_done(client, settings, run_on_commit):
    settings.GENERATION_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.DEMO_GENERATION_SECONDS = 0
    run = trained_model()
    with run_on_commit():
        job = generation_services.generation_create(user=run.project.owner, training_run=run, prompt="on a beach")
    client.force_login(run.project.owner)
    html = client.get(f"/generation/jobs/{job.id}/live/").content.decode()
    assert 'data-live-active="false"' in html
    assert 'data-live-id="job-images"' in html
    project = ProjectFactory(owner=run.project.owner)
    assert 'data-live-active="false"' in client.get(f"/projects/{project.id}/live/").content.decode()


def test_no_description_box_or_file_input_is_inside_a_swapped_leaf(client, settings):
    settings.PROJECT_PHOTOS_MAX = 20  # room left, so the uploader is on the page
    project = ready_project()
    client.force_login(project.owner)
    html = client.get(f"/projects/{project.id}/live/").content.decode()
    elements = parse(html)
    leaves = {
        e["attrs"]["data-live-id"]
        for e in elements
        if "data-live-id" in e["attrs"]
        and not any(
            e["attrs"]["data-live-id"] in other["live_ancestors"] and "data-live-id" in other["attrs"]
            for other in elements
        )
    }
    boxes = [e for e in elements if e["tag"] == "textarea" or e["attrs"].get("type") == "file"]
    assert len(boxes) == 15 + 1
    for box in boxes:
        assert not leaves & set(box["live_ancestors"]), box


@pytest.mark.parametrize(
    ("name", "queries"),
    [
        # session, user, project, photos, runs, activity events and what they link to
        ("project", 7),
        # session, user, the run with its project
        ("run", 3),
        # session, user, the job with its run and project, the reader's role in it, its images
        ("job", 5),
    ],
)
def test_live_regions_keep_a_constant_query_count(
    name, queries, client, slow_work, run_on_commit, django_assert_num_queries
):
    owner, _, live_url = work_in_progress(name, run_on_commit)
    client.force_login(owner)
    with django_assert_num_queries(queries):
        assert client.get(live_url).status_code == 200
    if name == "project":  # more photos, the same queries
        from projects import services
        from projects.models import Project

        services.photo_upload(project=Project.objects.get(), files=[photo_upload(2), photo_upload(3)])
        with django_assert_num_queries(queries):
            assert client.get(live_url).content.decode().count("Processing…") == 3


def test_pages_open_their_socket_on_this_site_or_on_the_live_server_the_settings_name(client, settings):
    def socket_of(response) -> str:
        return re.search(r'<body data-live-socket="([^"]*)"', response.content.decode()).group(1)

    assert socket_of(client.get("/accounts/login/")) == ""  # no account, no socket
    client.force_login(UserFactory())
    assert socket_of(client.get("/projects/")) == "/ws/live/"
    settings.LIVE_WEBSOCKET_URL = "wss://live.example.com/ws/live/"
    assert socket_of(client.get("/projects/")) == "wss://live.example.com/ws/live/"
