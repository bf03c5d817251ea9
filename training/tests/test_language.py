"""What a user who reads Spanish, German or French sees of training."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from projects.tests.factories import ProjectFactory
from training import selectors, services
from training.models import TrainingRun
from training.tests.factories import ready_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_a_german_user_trains_from_a_german_panel(client, run_on_commit):
    project = ready_project(owner=UserFactory(language="de"))
    client.force_login(project.owner)
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "Trainiere dein Modell" in page
    assert "1000 Schritte, Rang 16 · etwa 10 Min., kostenlos (simuliert)" in page
    assert "Ausgewogen" in page  # the preset's name
    assert "Bereit zum Training" in page  # the checklist's verdict
    with run_on_commit():
        response = client.post(f"/training/projects/{project.id}/train/", {"preset": "balanced"}, follow=True)
    page = response.content.decode()
    assert "Training eingereiht. Wir schicken dir eine E-Mail, sobald dein Modell fertig ist." in page
    assert f"Training von {project.name}" in page
    assert "Train your model" not in page


def test_the_run_page_reads_spanish_with_spanish_numbers(client):
    from generation.tests.factories import trained_model

    run = trained_model(loss_points=[[10, 0.52], [500, 0.22], [1000, 0.15]])
    client.force_login(run.project.owner)
    page = client.get(f"/training/runs/{run.id}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert f"Entrenamiento de {run.project.name}" in page
    assert "Completado" in page  # the run's status
    assert "Generar con este modelo" in page
    assert ">Pérdida</text>" in page
    assert "La pérdida pasó de 0,52 en el paso 10 a 0,15 en el paso 1000" in page
    assert "<td>500</td><td>0,2200</td>" in page
    models = client.get("/training/models/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Tus modelos" in models
    assert "Descargar LoRA" in models


def test_training_a_project_with_too_few_photos_is_refused_in_spanish(client):
    project = ProjectFactory()
    client.force_login(project.owner)
    response = client.post(
        f"/training/projects/{project.id}/train/",
        {"preset": "balanced"},
        HTTP_ACCEPT_LANGUAGE="es",
        HTTP_REFERER=f"http://testserver/projects/{project.id}/",
        follow=True,
    )
    page = response.content.decode()
    assert "El proyecto no está listo: primero corrige lo que indica la lista de comprobación." in page
    assert "0 / 15 fotos; el entrenamiento necesita 15." in page  # the checklist it points to
    assert not TrainingRun.objects.exists()


def test_the_api_refuses_in_the_language_of_accept_language(run_on_commit):
    project = ready_project()
    api = APIClient()
    api.force_authenticate(project.owner)
    with run_on_commit():
        assert api.post(f"/api/v1/projects/{project.id}/trainings/", {}, format="json").status_code == 201
    again = api.post(f"/api/v1/projects/{project.id}/trainings/", {}, format="json", HTTP_ACCEPT_LANGUAGE="de")
    assert again.status_code == 400
    assert again.json()["error"]["details"]["non_field_errors"] == [
        "Dieses Projekt wird schon trainiert; warte, bis das Training fertig ist, oder brich es ab."
    ]


def test_a_long_wait_is_counted_in_the_readers_words(run_on_commit):
    with run_on_commit():
        run = services.training_start(project=ready_project())
    # Training for 3 hours of a 6-hour deadline: far past the usual time.
    TrainingRun.objects.filter(id=run.id).update(
        status=TrainingRun.Status.TRAINING, state_changed_at=timezone.now() - timedelta(hours=3)
    )
    run.refresh_from_db()
    with translation.override("de"):
        notice = selectors.run_wait_notice(run=run)
    assert notice.startswith("Dieses Training dauert länger als die geschätzten 20 Minuten;")
    assert "Stunden fertig ist." in notice
    with translation.override("fr"):
        assert "les 20 minutes prévues" in selectors.run_wait_notice(run=run)


def test_the_result_email_writes_its_charge_note_in_the_language_it_is_rendered_in(run_on_commit):
    # The patch outlives the on-commit tasks: the email is sent by one of them.
    with mock.patch("training.services.notification.send_templated_email") as send, run_on_commit():
        run = services.training_start(project=ready_project())
        services.training_fail(run_id=run.id, message="The trainer crashed.")
    charge_note = send.call_args.kwargs["context"]["charge_note"]
    with translation.override("de"):
        assert str(charge_note) == "Es wurde simuliert (Demo-Modus), deshalb wird nichts berechnet."
    with translation.override("es"):
        assert str(charge_note) == "Fue simulado (modo demo), así que no se cobra nada."


def test_a_failed_run_reads_in_the_owners_language_on_its_page_and_in_its_email(client, mailoutbox, run_on_commit):
    from core import failures
    from generation.tests.factories import trained_model

    user = UserFactory(language="de")
    run = trained_model(owner=user)
    TrainingRun.objects.filter(id=run.id).update(
        status=TrainingRun.Status.FAILED,
        error=failures.with_last_error(failures.TRAINING_DEADLINES["submitting"].format(minutes=12), "HTTP 503"),
        error_kind=failures.Kind.DEADLINE,
        lora_file="",
        completed_at=timezone.now(),
    )
    client.force_login(user)
    page = client.get(f"/training/runs/{run.id}/").content.decode()
    assert "innerhalb von 12 Minuten" in page
    assert "within 12 minutes" not in page
    assert "HTTP 503" in page

    services.training_notify(run_id=run.id)
    body = mailoutbox[-1].body
    assert "innerhalb von 12 Minuten" in body
    assert "within 12 minutes" not in body
