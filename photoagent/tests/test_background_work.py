"""The operators' background-work page in the admin: queues, work per state, stuck items, re-drive."""

import re
import shutil
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.tests.factories import UserFactory
from generation.models import Generation
from generation.tests.factories import trained_model
from library.models import LibraryItem
from photoagent.celery import app as celery_app
from projects.tests.factories import ProjectFactory
from training.models import TrainingRun

pytestmark = pytest.mark.django_db

URL = "/admin/background-work/"


def section(html: str, element_id: str) -> str:
    """The part of the page from the element with this id to the next module."""
    start = html.index(f'id="{element_id}"')
    end = html.find('<div class="module"', start)
    return html[start : end if end != -1 else None]


def cell(html: str, status: str) -> int:
    return int(re.search(rf'<td data-status="{status}">(\d+)</td>', html).group(1))


def queue_row(html: str, name: str) -> list[str]:
    row = re.search(rf"<th scope=\"row\">{name}</th>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", html)
    return [row.group(1), row.group(2)]


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def training_run(project, status, **fields):
    run = TrainingRun.objects.create(
        project=project,
        status=status,
        steps=1000,
        lora_rank=16,
        learning_rate=4e-4,
        resolution="512,768,1024",
        trigger_word=project.trigger_word,
        backend="demo",
        estimated_cost=1,
        estimated_minutes=10,
    )
    if fields:
        TrainingRun.objects.filter(id=run.id).update(**fields)
    return run


def generation_job(user, status, **fields):
    job = Generation.objects.create(
        user=user,
        prompt="a mug",
        num_outputs=1,
        seed=1,
        guidance=3,
        steps=28,
        lora_scale=1,
        status=status,
        backend="demo",
        estimated_cost=0.03,
    )
    if fields:
        Generation.objects.filter(id=job.id).update(**fields)
    return job


def test_staff_see_work_per_state_and_the_oldest_stuck_item(operator_client):
    project = ProjectFactory()
    owner = project.owner
    queued_long_ago = training_run(project, TrainingRun.Status.QUEUED, created_at=ago(hours=2))
    # Polled on time: running for hours is normal for a training.
    training_run(project, TrainingRun.Status.TRAINING, created_at=ago(hours=3), next_poll_at=ago(minutes=-5))
    training_run(project, TrainingRun.Status.TRAINING, created_at=ago(hours=1), next_poll_at=ago(minutes=40))
    training_run(project, TrainingRun.Status.SUCCEEDED, created_at=ago(days=2))
    generation_job(owner, Generation.Status.QUEUED)  # just created: not stuck
    generation_job(owner, Generation.Status.SUCCEEDED)
    never_recorded = generation_job(owner, Generation.Status.RUNNING, started_at=ago(minutes=30))
    for minutes in (1, 20, 50):
        LibraryItem.objects.create(user=owner, kind=LibraryItem.Kind.PHOTO, created_at=ago(minutes=minutes))

    response = operator_client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    training = section(html, "work-training")
    assert (cell(training, "queued"), cell(training, "training"), cell(training, "succeeded")) == (1, 2, 1)
    assert cell(training, "failed") == 0
    assert '<strong class="stuck-count">2</strong>' in training
    assert f'href="/admin/training/trainingrun/{queued_long_ago.id}/change/"' in training
    generation = section(html, "work-generation")
    assert (cell(generation, "queued"), cell(generation, "running"), cell(generation, "succeeded")) == (1, 1, 1)
    assert '<strong class="stuck-count">1</strong>' in generation
    assert f'href="/admin/generation/generation/{never_recorded.id}/change/"' in generation
    library = section(html, "work-library")
    assert cell(library, "pending") == 3
    assert '<strong class="stuck-count">2</strong>' in library
    assert 'value="Re-drive stuck library analyses"' in library


def test_the_page_is_linked_from_the_admin_index(operator_client):
    assert f'href="{URL}"' in operator_client.get("/admin/").content.decode()


def test_the_page_runs_the_same_number_of_queries_whatever_the_amount_of_work(
    operator_client, django_assert_num_queries
):
    project = ProjectFactory()
    for _ in range(3):
        training_run(project, TrainingRun.Status.QUEUED, created_at=ago(hours=1))
        generation_job(project.owner, Generation.Status.QUEUED, created_at=ago(hours=1))
        LibraryItem.objects.create(user=project.owner, kind=LibraryItem.Kind.PHOTO, created_at=ago(hours=1))
    # Session and user, then per kind: counts per state, stuck count, oldest stuck item; for runs
    # and jobs also the count and latest of those a deadline ended.
    with django_assert_num_queries(15):
        assert operator_client.get(URL).status_code == 200


def test_people_who_are_not_staff_are_sent_to_the_admin_login(client):
    job = generation_job(UserFactory(), Generation.Status.QUEUED, created_at=ago(hours=1))
    for who in (None, UserFactory()):
        if who:
            client.force_login(who)
        assert client.get(URL).url == f"/admin/login/?next={URL}"
        assert client.post(URL, {"kind": "generation"}).url == f"/admin/login/?next={URL}"
    job.refresh_from_db()
    assert job.status == Generation.Status.QUEUED


def test_re_drive_runs_the_reconcile_and_says_how_many_it_re_drove(operator_client, settings, run_on_commit):
    settings.GENERATION_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.DEMO_GENERATION_SECONDS = 0
    run = trained_model()
    lost = [generation_job(run.project.owner, Generation.Status.QUEUED, training_run=run) for _ in range(2)]
    Generation.objects.filter(id__in=[job.id for job in lost]).update(created_at=ago(minutes=30))

    with run_on_commit():
        response = operator_client.post(URL, {"kind": "generation"}, follow=True)

    assert response.redirect_chain == [(URL, 302)]
    assert "Re-driven 2 generation jobs." in response.content.decode()
    # Eager tasks in tests: the re-queued jobs ran on the demo simulator.
    assert set(Generation.objects.values_list("status", flat=True)) == {Generation.Status.SUCCEEDED}
    assert '<strong class="stuck-count">0</strong>' in section(response.content.decode(), "work-generation")


def test_staff_without_the_right_to_see_every_kind_of_work_cannot_open_the_page(client):
    """It counts every user's training runs, generations and library items."""
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"kind": "library"}).status_code == 403
    assert URL not in client.get("/admin/").content.decode(), "nor is it linked"
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_trainingrun", "view_generation"]))
    assert client.get(URL).status_code == 403, "library items too"
    staff.user_permissions.add(Permission.objects.get(codename="view_libraryitem"))
    assert client.get(URL).status_code == 200
    assert URL in client.get("/admin/").content.decode()


def test_re_drive_needs_the_right_to_change_that_kind_of_item(client):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_trainingrun", "view_generation", "change_libraryitem"])
    )
    client.force_login(staff)
    job = generation_job(staff, Generation.Status.QUEUED, created_at=ago(hours=1))

    page = client.get(URL).content.decode()
    assert "Re-drive stuck generation jobs" not in page
    assert "Re-drive stuck library analyses" in page
    assert client.post(URL, {"kind": "generation"}).status_code == 403
    job.refresh_from_db()
    assert job.status == Generation.Status.QUEUED


def test_re_drive_of_an_unknown_kind_says_what_it_accepts(operator_client):
    response = operator_client.post(URL, {"kind": "everything"}, follow=True)
    assert "Choose what to re-drive: training, generation or library." in response.content.decode()


def test_the_page_renders_when_the_broker_is_down(operator_client, monkeypatch):
    # Nothing listens on port 1 of loopback: a real, refused connection.
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})
    generation_job(UserFactory(), Generation.Status.QUEUED)

    response = operator_client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert queue_row(html, "generation") == ["unknown", "unknown"]
    assert "The broker did not answer (OperationalError)" in html
    assert cell(section(html, "work-generation"), "queued") == 1


def test_queue_depths_come_from_the_configured_broker(operator_client, monkeypatch):
    from library.tasks import analyse_item

    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    celery_app.control.purge()
    try:
        for item_id in (1, 2, 3):
            analyse_item.delay(item_id)
        html = operator_client.get(URL).content.decode()
    finally:
        celery_app.control.purge()
    assert queue_row(html, "library")[0] == "3"
    assert queue_row(html, "generation")[0] == "0"


@pytest.fixture
def private_redis():
    """A throwaway redis-server on a free loopback port (CI installs Redis)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (CI installs it and runs this test)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_on_redis_messages_a_worker_holds_are_counted_apart(operator_client, monkeypatch, private_redis):
    from generation.tasks import sync_generation

    monkeypatch.setitem(celery_app.conf, "broker_url", private_redis)
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {"visibility_timeout": 3600})
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    with celery_app.connection_for_write() as publisher:
        for job_id in (1, 2, 3):
            sync_generation.apply_async((job_id,), connection=publisher)
    # A "worker" takes one message and has not acknowledged it yet.
    with celery_app.connection_for_read() as worker:
        taken = worker.default_channel.basic_get("generation", no_ack=False)
        assert taken is not None
        html = operator_client.get(URL).content.decode()

    assert queue_row(html, "generation") == ["2", "1"]
    assert queue_row(html, "training") == ["0", "0"]
    assert "redis broker" in html


def test_the_page_shows_runs_and_jobs_a_deadline_ended(operator_client):
    project = ProjectFactory()
    run = training_run(project, TrainingRun.Status.FAILED, created_at=ago(hours=2))
    TrainingRun.objects.filter(id=run.id).update(
        error_kind="deadline",
        completed_at=ago(hours=1),
        error="The provider did not start this training within 60 minutes.",
    )
    job = generation_job(project.owner, Generation.Status.FAILED, created_at=ago(hours=2))
    Generation.objects.filter(id=job.id).update(error_kind="failed-otherwise", completed_at=ago(hours=1))
    html = operator_client.get(URL).content.decode()
    training = section(html, "work-training")
    assert '<strong class="ended-count">1</strong>' in training
    assert "did not start this training within 60 minutes" in training
    assert '<strong class="ended-count">0</strong>' in section(html, "work-generation")
