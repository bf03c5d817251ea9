from decimal import Decimal

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from training import services
from training.models import TrainingLimit, TrainingRun
from training.tests.factories import poll_now, ready_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_api_starts_lists_and_cancels_runs(run_on_commit):
    project = ready_project()
    api = APIClient()
    api.force_authenticate(project.owner)
    response = api.post(f"/api/v1/projects/{project.id}/trainings/", {"preset": "fast"}, format="json")
    assert response.status_code == 201
    run_id = response.json()["id"]
    assert response.json()["simulated"] is True
    assert api.get("/api/v1/trainings/").json()["count"] == 1
    again = api.post(f"/api/v1/projects/{project.id}/trainings/", {}, format="json")
    assert again.status_code == 400
    assert "already training" in again.json()["error"]["details"]["non_field_errors"][0]
    canceled = api.post(f"/api/v1/trainings/{run_id}/cancel/")
    assert canceled.json()["status"] == "canceled"
    assert api.get("/api/v1/models/").json()["count"] == 0


def test_another_users_runs_are_not_found(run_on_commit):
    project = ready_project()
    with run_on_commit():
        run = services.training_start(project=project)
    api = APIClient()
    api.force_authenticate(UserFactory())
    assert api.get(f"/api/v1/trainings/{run.id}/").status_code == 404
    assert api.post(f"/api/v1/trainings/{run.id}/cancel/").status_code == 404
    assert api.post(f"/api/v1/projects/{project.id}/trainings/", {}, format="json").status_code == 404
    client = APIClient()
    client.force_login(UserFactory())
    for url in (f"/training/runs/{run.id}/", f"/training/runs/{run.id}/lora/"):
        assert client.get(url).status_code == 404


def test_the_website_shows_the_estimate_trains_and_offers_the_lora(client, run_on_commit):
    from django.test import override_settings

    project = ready_project()
    client.force_login(project.owner)
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "Train your model" in page
    assert "1000 steps" in page
    assert "free (simulated)" in page  # demo mode
    with override_settings(TRAINING_BACKEND="training.backends.replicate.ReplicateTrainingBackend"):
        assert "$0.92" in client.get(f"/projects/{project.id}/").content.decode()  # 1000 steps x 0.6 s x $0.001528
    with run_on_commit():
        response = client.post(f"/training/projects/{project.id}/train/", {"preset": "balanced"})
    run = TrainingRun.objects.get()
    assert response.url == f"/training/runs/{run.id}/"
    with run_on_commit():
        poll_now(run.id)
    page = client.get(f"/training/runs/{run.id}/").content.decode()
    assert "Succeeded" in page
    assert "simulated" in page
    download = client.get(f"/training/runs/{run.id}/lora/")
    assert download["Content-Disposition"].startswith("attachment")
    assert "SIMULATED" in download["Content-Disposition"]
    assert project.name in client.get("/training/models/").content.decode()
    assert len(mail.outbox) == 1


def test_daily_and_monthly_limits_explain_themselves(run_on_commit, settings):
    project = ready_project()
    TrainingLimit.objects.create(user=project.owner, runs_per_day=1)
    with run_on_commit():
        run = services.training_start(project=project)
        services.training_cancel(run=run)
    with pytest.raises(services.TrainingNotAllowed, match="daily limit"):
        services.training_start(project=project)
    TrainingLimit.objects.filter(user=project.owner).update(runs_per_day=10, monthly_spend=Decimal("0.50"))
    # A paid training (refused before it is submitted); a simulated one would cost nothing.
    settings.TRAINING_BACKEND = "training.backends.replicate.ReplicateTrainingBackend"
    with pytest.raises(services.TrainingNotAllowed, match="monthly limit of \\$0.50"):
        services.training_start(project=project)


def test_simulated_trainings_cost_nothing_and_never_count_against_the_monthly_spend(run_on_commit):
    project = ready_project()
    # Below any real training's price: only a free one can start.
    TrainingLimit.objects.create(user=project.owner, runs_per_day=10, monthly_spend=Decimal("0.01"))
    with run_on_commit():
        run = services.training_start(project=project)
    with run_on_commit():
        poll_now(run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert (run.estimated_cost, run.actual_cost) == (0, 0)
    assert services.training_charge_note(run=run) == "It was simulated (demo mode), so nothing is charged."
    # A row written before this rule, with a price on it, is still not spend.
    TrainingRun.objects.filter(id=run.id).update(actual_cost=Decimal("1.10"))
    with run_on_commit():
        again = services.training_start(project=project)
    assert again.estimated_cost == 0


def test_a_project_that_is_not_ready_cannot_train():
    from projects.tests.factories import ProjectFactory

    with pytest.raises(services.TrainingNotAllowed, match="not ready"):
        services.training_start(project=ProjectFactory())


def test_admin_lists_runs_and_resends_the_email(client, run_on_commit):
    project = ready_project()
    with run_on_commit():
        run = services.training_start(project=project)
    with run_on_commit():
        poll_now(run.id)
    assert len(mail.outbox) == 1
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert project.name in client.get("/admin/training/trainingrun/", {"status__exact": "succeeded"}).content.decode()
    with run_on_commit():
        client.post("/admin/training/trainingrun/", {"action": "resend_email", "_selected_action": [run.id]})
    assert len(mail.outbox) == 2


def test_the_model_list_keeps_a_constant_query_count(client, django_assert_num_queries):
    from generation.tests.factories import trained_model

    owner = trained_model().project.owner
    client.force_login(owner)
    with django_assert_num_queries(3):  # session, user, the models with their projects
        assert client.get("/training/models/").content.decode().count("Download LoRA") == 1
    trained_model(owner=owner)
    trained_model(owner=owner)
    with django_assert_num_queries(3):
        assert client.get("/training/models/").content.decode().count("Download LoRA") == 3


def test_a_trained_projects_page_keeps_a_constant_query_count(
    client, settings, run_on_commit, django_assert_num_queries
):
    from generation import services as generation_services
    from generation.tests.factories import trained_model
    from projects import services as project_services
    from projects.tests.factories import photo_upload

    settings.GENERATION_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.DEMO_GENERATION_SECONDS = 0
    settings.PROJECT_PHOTOS_MAX = 20
    project = ready_project()
    run = trained_model(project=project)
    client.force_login(project.owner)
    # Session, user, the project, its photos, its runs, its recent images, then what may refuse a
    # new training: a run in progress, the user's limits, runs today, spend this month.
    with django_assert_num_queries(10):
        page = client.get(f"/projects/{project.id}/")
    assert page.context["report"].ready
    assert page.context["recent_images"] == []
    with run_on_commit():
        for prompt in ("on a beach", "in the snow"):
            generation_services.generation_create(user=project.owner, training_run=run, prompt=prompt, num_outputs=4)
        files = [photo_upload(seed, size=(1200, 1100)) for seed in range(100, 103)]
        added = project_services.photo_upload(project=project, files=files).accepted
    for photo in added:
        photo.refresh_from_db()
        project_services.photo_update_description(photo=photo, description="the mug on a shelf")
    with django_assert_num_queries(10):
        page = client.get(f"/projects/{project.id}/")
    assert page.context["report"].ready
    assert len(page.context["rows"]) == 18
    assert len(page.context["recent_images"]) == 8


def test_a_simulated_run_never_blames_a_missing_public_address(client, settings, run_on_commit):
    settings.SITE_URL = "http://127.0.0.1:8000"
    settings.DEMO_TRAINING_SECONDS = 600
    project = ready_project()
    with run_on_commit():
        run = services.training_start(project=project, preset="fast")
    client.force_login(project.owner)
    page = client.get(f"/training/runs/{run.id}/").content.decode()
    assert run.backend == "demo"
    assert "updates by itself" in page
    assert "public web address" not in page
    TrainingRun.objects.filter(id=run.id).update(backend="replicate")
    assert "public web address" in client.get(f"/training/runs/{run.id}/").content.decode()


def test_a_finished_run_offers_to_generate_with_it_and_charts_its_loss_with_axes(client):
    from generation.tests.factories import trained_model

    run = trained_model(loss_points=[[10, 0.52], [250, 0.31], [500, 0.22], [750, 0.18], [1000, 0.15]])
    client.force_login(run.project.owner)
    page = client.get(f"/training/runs/{run.id}/").content.decode()
    assert f'<a class="button" href="/generation/new/?model={run.id}">Generate with this model</a>' in page
    chart = page.split('<svg class="loss-chart"')[1].split("</svg>")[0]
    assert ">Step</text>" in chart
    assert ">Loss</text>" in chart
    assert ">10</text>" in chart  # first step on the x axis
    assert ">1000</text>" in chart  # last step
    assert ">0.52</text>" in chart  # highest loss on the y axis
    assert ">0.15</text>" in chart  # lowest
    assert 'aria-labelledby="loss-heading loss-summary"' in chart
    assert "Loss went from 0.52 at step 10 to 0.15 at step 1000; the lowest was 0.15 at step 1000." in page
    assert "<td>500</td><td>0.2200</td>" in page
    form = client.get(f"/generation/new/?model={run.id}").content.decode()
    assert f'<option value="{run.id}" selected>' in form
