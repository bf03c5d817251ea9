"""Journeys across apps: a trained project's page (projects, training, generation)."""

import pytest

from training.tests.factories import ready_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


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
    # new training: a run in progress, the user's limits, runs today, spend this month; the
    # activity section's events and what they link to.
    with django_assert_num_queries(12):
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
    with django_assert_num_queries(12):
        page = client.get(f"/projects/{project.id}/")
    assert page.context["report"].ready
    assert len(page.context["rows"]) == 18
    assert len(page.context["recent_images"]) == 8
