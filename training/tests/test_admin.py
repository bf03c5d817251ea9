"""The operators' admin actions on runs go through the services."""

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from training import services
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
