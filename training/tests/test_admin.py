"""The operators' admin actions on runs go through the services."""

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from generation.tests.factories import trained_model
from training import services
from training.models import TrainingRun
from training.tests.factories import poll_now, ready_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


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


def test_admin_repolls_only_the_active_runs_it_is_given(operator_client, run_on_commit, settings):
    settings.DEMO_TRAINING_SECONDS = 3600
    project = ready_project()
    with run_on_commit():
        running = services.training_start(project=project)
    running.refresh_from_db()
    assert running.status == TrainingRun.Status.STARTING
    ended = trained_model()
    with run_on_commit():
        operator_client.post(
            "/admin/training/trainingrun/", {"action": "repoll", "_selected_action": [running.id, ended.id]}
        )
    running.refresh_from_db()
    assert running.polls == 1  # the queued poll ran
    ended.refresh_from_db()
    assert ended.next_poll_at is None


def test_admin_never_resends_the_email_of_a_run_the_user_canceled(operator_client, run_on_commit):
    with run_on_commit():
        run = services.training_start(project=ready_project())
        services.training_cancel(run=run)
    assert mail.outbox == []
    with run_on_commit():
        operator_client.post("/admin/training/trainingrun/", {"action": "resend_email", "_selected_action": [run.id]})
    assert mail.outbox == []
    assert services.training_resend_email(run_ids=[run.id]) == 0
