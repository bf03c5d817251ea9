"""The training pages: start, follow, download and list."""

import pytest
from django.core import mail

from training import services
from training.models import TrainingRun
from training.tests.factories import poll_now, ready_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


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
