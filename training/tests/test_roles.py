"""Trainings in a shared project: every member follows the runs and sees the models; only the
owner starts, cancels or retries one, and it is charged to the owner's limits."""

import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.tests.factories import UserFactory
from generation.tests.factories import trained_model
from projects import services as project_services
from projects.access import Can
from projects.models import Role
from projects.tests.factories import MembershipFactory
from training import selectors, services
from training.models import TrainingLimit, TrainingRun
from training.tests.factories import ready_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def member(project, role):
    return MembershipFactory(project=project, role=role).user


def api_for(user):
    client = APIClient()
    _, secret = account_services.api_token_create(user=user, name="test")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def project():
    return ready_project()


@pytest.fixture
def failed_run(project, run_on_commit):
    with run_on_commit():
        run = services.training_start(project=project, preset="fast")
    TrainingRun.objects.filter(id=run.id).update(status=TrainingRun.Status.FAILED)
    run.refresh_from_db()
    return run


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
def test_only_the_owner_is_offered_training(client, project, role):
    client.force_login(member(project, role))
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert f"/training/projects/{project.id}/train/" not in page
    assert 'id="train-button"' not in page
    assert "Only the owner" in page
    assert "charged to their limits" in page


def test_the_owner_sees_the_limits_the_training_is_charged_to(client, project):
    TrainingLimit.objects.create(user=project.owner, runs_per_day=4)
    client.force_login(project.owner)
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert 'id="train-button"' in page
    assert "Charged to you (the owner): 0 of your 4 trainings a day used" in page


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
def test_a_member_who_forces_a_training_gets_403_and_nothing_starts(client, project, role, run_on_commit):
    client.force_login(member(project, role))
    with run_on_commit():
        response = client.post(f"/training/projects/{project.id}/train/", {"preset": "fast"})
    assert response.status_code == 403
    assert not TrainingRun.objects.exists()
    api = api_for(member(project, role))
    answer = api.post(f"/api/v1/projects/{project.id}/trainings/", {"preset": "fast"}, format="json")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"
    assert not TrainingRun.objects.exists()


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
def test_a_member_follows_a_run_but_cannot_cancel_or_retry_it(client, project, failed_run, role, run_on_commit):
    client.force_login(member(project, role))
    page = client.get(f"/training/runs/{failed_run.id}/").content.decode()
    assert "Failed" in page
    assert f"/training/runs/{failed_run.id}/retry/" not in page
    assert client.get(f"/training/runs/{failed_run.id}/live/").status_code == 200
    with run_on_commit():
        assert client.post(f"/training/runs/{failed_run.id}/retry/").status_code == 403
        assert client.post(f"/training/runs/{failed_run.id}/cancel/").status_code == 403
    assert TrainingRun.objects.count() == 1


def test_the_owner_retries_a_run_in_a_shared_project(client, project, failed_run, run_on_commit):
    member(project, Role.EDITOR)
    client.force_login(project.owner)
    assert f"/training/runs/{failed_run.id}/retry/" in client.get(f"/training/runs/{failed_run.id}/").content.decode()
    with run_on_commit():
        assert client.post(f"/training/runs/{failed_run.id}/retry/").status_code == 302
    assert TrainingRun.objects.count() == 2


def test_a_non_member_gets_404_for_runs_models_and_training(client, project, failed_run):
    client.force_login(UserFactory())
    assert client.get(f"/training/runs/{failed_run.id}/").status_code == 404
    assert client.post(f"/training/runs/{failed_run.id}/retry/").status_code == 404
    assert client.post(f"/training/projects/{project.id}/train/").status_code == 404
    api = api_for(UserFactory())
    assert api.get(f"/api/v1/trainings/{failed_run.id}/").status_code == 404
    assert api.get("/api/v1/trainings/").json()["results"] == []


def test_the_limits_are_the_owners_whoever_looks(project, failed_run):
    editor = member(project, Role.EDITOR)
    TrainingLimit.objects.create(user=project.owner, runs_per_day=1)
    TrainingLimit.objects.create(user=editor, runs_per_day=50)
    assert selectors.training_usage(owner_id=project.owner_id).runs_left == 0
    assert "your daily limit" in selectors.training_refusal(project=project, steps=600)


def test_viewers_see_the_models_and_only_who_may_generate_is_offered_it(client, run_on_commit):
    model = trained_model()
    viewer = member(model.project, Role.VIEWER)
    editor = member(model.project, Role.EDITOR)
    assert list(selectors.trained_models_for_user(user=viewer)) == []  # not to generate with
    assert list(selectors.trained_models_for_user(user=viewer, capability=Can.VIEW)) == [model]
    assert list(selectors.trained_models_for_user(user=editor)) == [model]
    client.force_login(viewer)
    page = client.get("/training/models/").content.decode()
    assert model.project.name in page
    assert "View only" in page
    assert "Download LoRA" not in page
    assert client.get(f"/training/runs/{model.id}/lora/").status_code == 403
    assert [run["id"] for run in api_for(viewer).get("/api/v1/models/").json()["results"]] == [model.id]
    client.force_login(editor)
    page = client.get("/training/models/").content.decode()
    assert "Download LoRA" in page
    assert "View only" not in page
    assert client.get(f"/training/runs/{model.id}/lora/").status_code == 200


def test_past_runs_stay_charged_to_who_owned_the_project_when_they_started(project, failed_run):
    first_owner, editor = project.owner, member(project, Role.EDITOR)
    assert failed_run.charged_to == first_owner
    assert selectors.training_usage(owner_id=first_owner.id).runs_today == 1
    project_services.project_transfer_ownership(actor=first_owner, project=project, user_id=editor.id)
    # Transferring does not reset the first owner's use, nor hand it to the new owner.
    assert selectors.training_usage(owner_id=first_owner.id).runs_today == 1
    assert selectors.training_usage(owner_id=editor.id).runs_today == 0


def test_the_retry_button_shows_the_owners_limits_it_is_charged_to(client, project, failed_run):
    TrainingLimit.objects.create(user=project.owner, runs_per_day=4)
    client.force_login(project.owner)
    page = client.get(f"/training/runs/{failed_run.id}/").content.decode()
    assert f"/training/runs/{failed_run.id}/retry/" in page
    assert "Charged to you (the owner): 1 of your 4 trainings a day used" in page
    client.force_login(member(project, Role.EDITOR))
    page = client.get(f"/training/runs/{failed_run.id}/").content.decode()
    assert "retry/" not in page
    assert "Charged to you" not in page


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
def test_the_next_step_of_a_ready_project_says_the_owner_trains(client, project, role):
    client.force_login(member(project, role))
    page = client.get(f"/projects/{project.id}/").content.decode()
    step = " ".join(page.split('class="next-step"')[1].split("</p>")[0].split())
    assert "the owner trains the model (it is charged to their limits)." in step
    assert "choose a preset" not in step
