"""What a user who reads Spanish, German or French sees on the project pages."""

import pytest
from django.utils import translation

from accounts.tests.factories import UserFactory
from projects import readiness
from projects.models import Photo
from projects.tests.factories import ProjectFactory, photo_upload, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def german_client(client):
    user = UserFactory(language="de")
    client.force_login(user)
    return client, user


def test_the_project_list_follows_the_browser_language(owner_client):
    page = owner_client.get("/projects/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Tus proyectos" in page
    assert "Crea tu primer proyecto" in page
    assert "Your projects" not in page


def test_the_new_project_form_has_spanish_labels_help_and_errors(owner_client):
    page = owner_client.get("/projects/new/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Nuevo proyecto" in page
    assert "Palabra clave" in page
    assert "Una palabra inventada que tus prompts usan" in page
    assert "Persona" in page
    assert "Producto" in page
    response = owner_client.post(
        "/projects/new/", {"name": "Ana", "category": "person", "trigger_word": "my sister"}, HTTP_ACCEPT_LANGUAGE="es"
    )
    assert "Una sola palabra de 3 a 32 letras" in response.content.decode()


def test_the_saved_language_beats_the_browser_on_the_project_page(german_client):
    client, user = german_client
    project = ProjectFactory(owner=user)
    page = client.get(f"/projects/{project.id}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Noch nicht bereit zum Training" in page
    assert "Trainiere dein Modell" in page
    assert "Fotos hierher ziehen" in page
    assert "Hochladen" in page
    assert "Fotos werden gesammelt" in page  # the project's status


def test_a_refused_upload_says_why_in_spanish(owner_client, project):
    response = owner_client.post(
        f"/projects/{project.id}/photos/",
        {"photos": [upload(b"this is not a photo", name="notes.jpg")]},
        HTTP_ACCEPT_LANGUAGE="es",
        follow=True,
    )
    page = response.content.decode()
    assert "notes.jpg: No podemos leer esta imagen. Aceptamos fotos JPEG, PNG, WebP y HEIC." in page
    assert not Photo.objects.exists()


def test_the_upload_answer_for_the_page_script_is_translated(owner_client, project):
    response = owner_client.post(
        f"/projects/{project.id}/photos/",
        {"photos": [upload(b"", name="empty.jpg")]},
        HTTP_ACCEPT="application/json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.json()["rejected"] == [{"name": "empty.jpg", "error": "Le fichier est vide."}]


def test_a_german_count_agrees_with_the_number_of_photos(german_client, run_on_commit):
    client, user = german_client
    project = ProjectFactory(owner=user)
    with run_on_commit():
        response = client.post(f"/projects/{project.id}/photos/", {"photos": [photo_upload(1)]}, follow=True)
    assert "1 Foto hochgeladen; es wird jetzt verarbeitet." in response.content.decode()
    assert (
        "Damit werden das Projekt und 1 Foto gelöscht" in client.get(f"/projects/{project.id}/delete/").content.decode()
    )
    with run_on_commit():
        response = client.post(
            f"/projects/{project.id}/photos/", {"photos": [photo_upload(2), photo_upload(3)]}, follow=True
        )
    assert "2 Fotos hochgeladen; sie werden jetzt verarbeitet." in response.content.decode()
    page = client.get(f"/projects/{project.id}/delete/").content.decode()
    assert "Damit werden das Projekt und seine 3 Fotos gelöscht" in page


def test_readiness_sentences_agree_in_every_language(settings):
    settings.PROJECT_PHOTOS_MIN = 1
    project = ProjectFactory()
    photos = [Photo(id=n, original_filename=f"p{n}.jpg", description="", status="ready") for n in (1, 2)]
    for photo in photos:
        photo.width, photo.height = 1200, 1100
    with translation.override("fr"):
        check = next(
            c for c in readiness.report_for(project=project, photos=photos[:1]).checks if c.key == "descriptions"
        )
        assert (check.label, check.message) == ("Descriptions", "1 photo n’a pas de description.")
    with translation.override("es"):
        check = next(c for c in readiness.report_for(project=project, photos=photos).checks if c.key == "descriptions")
        assert check.message == "2 fotos no tienen descripción."
