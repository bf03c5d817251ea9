"""The admin: jobs and images listed, jobs canceled."""

import pytest

from generation import services
from generation.models import Generation
from generation.tests.factories import trained_model

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_the_admin_lists_jobs_and_images_and_cancels(operator_client, settings, run_on_commit):
    run = trained_model()
    with run_on_commit():
        done = services.generation_create(user=run.project.owner, training_run=run, prompt="x", num_outputs=1)
    settings.DEMO_GENERATION_SECONDS = 60
    with run_on_commit():
        running = services.generation_create(user=run.project.owner, training_run=run, prompt="y", num_outputs=1)
    assert operator_client.get("/admin/generation/generation/?status__exact=running").status_code == 200
    change = operator_client.get(f"/admin/generation/generation/{done.id}/change/").content.decode()
    thumbnail = f"/generation/images/{done.images.get().id}/thumbnail/"
    assert thumbnail in change
    assert operator_client.get(thumbnail).status_code == 200
    assert operator_client.get("/admin/generation/generatedimage/").status_code == 200
    with run_on_commit():
        operator_client.post(
            "/admin/generation/generation/", {"action": "repoll", "_selected_action": [running.id, done.id]}
        )
    operator_client.post("/admin/generation/generation/", {"action": "cancel", "_selected_action": [running.id]})
    running.refresh_from_db()
    assert running.status == Generation.Status.CANCELED
    assert operator_client.get("/admin/generation/generationlimit/add/").status_code == 200
