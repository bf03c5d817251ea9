"""The training API (and the pages) serve a user their own runs only."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from training import services
from training.tests.factories import ready_project

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
