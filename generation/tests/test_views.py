"""The website: the form, the job page, the gallery with its lightbox, downloads and the zip."""

import io
import json
import zipfile

import pytest
from django.core.files.storage import default_storage

from accounts.tests.factories import UserFactory
from generation import services
from generation.models import GeneratedImage, Generation
from generation.tests.factories import trained_model

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


@pytest.fixture
def owner_with_images(run_on_commit):
    run = trained_model()
    with run_on_commit():
        generation = services.generation_create(
            user=run.project.owner, training_run=run, prompt="on a beach", num_outputs=3, seed=42
        )
    return run, generation


def test_the_form_offers_templates_and_generates(client, run_on_commit):
    run = trained_model()
    client.force_login(run.project.owner)
    page = client.get("/generation/new/").content.decode()
    assert "<title>Generate images · PhotoAgent</title>" in page
    assert page.count('id="trigger-words"') == 1
    assert "Studio on white" in page
    assert f"a product photo of {run.trigger_word}" in page
    assert "Demo mode" in page
    with run_on_commit():
        response = client.post(
            "/generation/new/",
            {
                "model": run.id,
                "prompt": "on a marble counter",
                "num_outputs": 2,
                "aspect_ratio": "4:5",
                "seed": "",
                "guidance": 3.5,
                "steps": 28,
                "lora_scale": 0.9,
                "output_format": "png",
            },
            follow=True,
        )
    job = Generation.objects.get()
    assert response.redirect_chain[-1][0] == f"/generation/jobs/{job.id}/"
    assert f"We added your trigger word “{run.trigger_word}”" in response.content.decode()
    page = client.get(f"/generation/jobs/{job.id}/").content.decode()
    assert "Succeeded" in page
    assert page.count('class="image-tile"') == 2
    assert job.aspect_ratio == "4:5"
    assert job.output_format == "png"
    assert job.images.first().format == "png"


def test_over_a_limit_the_form_explains_and_queues_nothing(client, settings):
    settings.GENERATION_IMAGES_PER_DAY = 2
    run = trained_model()
    client.force_login(run.project.owner)
    response = client.post(
        "/generation/new/",
        {"model": run.id, "prompt": "x", "num_outputs": 4, "aspect_ratio": "1:1", "guidance": 3, "steps": 28}
        | {"lora_scale": 1, "output_format": "webp"},
    )
    assert response.status_code == 200
    assert "would pass your limit of 2 a day" in response.content.decode()
    assert not Generation.objects.exists()


def test_bad_input_is_explained_not_a_500(client):
    run = trained_model()
    client.force_login(run.project.owner)
    response = client.post("/generation/new/", {"model": "999999", "prompt": "", "num_outputs": 9, "steps": 0})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Select a valid choice" in page
    assert "This field is required" in page
    assert not Generation.objects.exists()


def test_use_these_settings_again_fills_the_form(client, owner_with_images):
    run, generation = owner_with_images
    client.force_login(run.project.owner)
    page = client.get(f"/generation/new/?from={generation.id}").content.decode()
    assert 'name="seed" value="42"' in page
    # The prompt as typed: the trigger word is added again when the form is sent.
    assert ">\non a beach</textarea>" in page
    assert client.get(f"/generation/new/?from={generation.id + 1000}").status_code == 404


def test_the_gallery_lists_filters_and_keeps_a_constant_query_count(
    client, owner_with_images, run_on_commit, django_assert_num_queries
):
    run, _ = owner_with_images
    client.force_login(run.project.owner)
    with django_assert_num_queries(6):  # one for the projects whose images the reader may change
        page = client.get("/generation/").content.decode()
    assert page.count("data-lightbox ") == 3
    with run_on_commit():
        services.generation_create(user=run.project.owner, training_run=None, prompt="a red barn", num_outputs=4)
    with django_assert_num_queries(6):
        page = client.get("/generation/").content.decode()
    assert page.count("data-lightbox ") == 7
    filtered = client.get(f"/generation/?model={run.id}").content.decode()
    assert filtered.count("data-lightbox ") == 3
    # Other users see none of it.
    client.force_login(UserFactory())
    assert "No images yet" in client.get("/generation/").content.decode()


def test_favourite_download_and_delete_one_image(client, owner_with_images, run_on_commit):
    run, generation = owner_with_images
    client.force_login(run.project.owner)
    image = generation.images.order_by("index").first()
    client.post(f"/generation/images/{image.id}/favourite/", {"favourite": "1"})
    image.refresh_from_db()
    assert image.favourite
    assert client.get("/generation/?favourites=1").content.decode().count("data-lightbox ") == 1
    download = client.get(f"/generation/images/{image.id}/download/")
    assert download["Content-Disposition"].startswith("attachment")
    assert f"{run.trigger_word}-{generation.id}-1-SIMULATED.webp" in download["Content-Disposition"]
    assert b"".join(download.streaming_content)[:4] == b"RIFF"
    names = image.file_names()
    with run_on_commit():
        client.post(f"/generation/images/{image.id}/delete/")
    # To the trash: out of the gallery, its files kept so it can be restored.
    assert GeneratedImage.objects.get(id=image.id).trashed_at is not None
    assert client.get(f"/generation/images/{image.id}/").status_code == 404
    assert all(default_storage.exists(name) for name in names)


def test_the_selection_downloads_as_a_streamed_zip_of_only_your_images(
    client, owner_with_images, run_on_commit, django_assert_num_queries
):
    run, generation = owner_with_images
    stranger = trained_model()
    with run_on_commit():
        theirs = services.generation_create(
            user=stranger.project.owner, training_run=stranger, prompt="x", num_outputs=1
        )
    ids = list(generation.images.order_by("index").values_list("id", flat=True))[:2] + [theirs.images.get().id]
    client.force_login(run.project.owner)
    # Session, user, the images with their jobs and models: the names need no query per image.
    with django_assert_num_queries(3):
        response = client.post("/generation/images/selection/", {"images": ids, "action": "zip"})
        content = b"".join(response.streaming_content)
    assert response.streaming
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == [
        f"{run.trigger_word}-{generation.id}-1-SIMULATED.webp",
        f"{run.trigger_word}-{generation.id}-2-SIMULATED.webp",
    ]
    first = generation.images.get(index=0)
    with default_storage.open(first.file.name, "rb") as stored:
        assert archive.read(f"{run.trigger_word}-{generation.id}-1-SIMULATED.webp") == stored.read()


def test_an_empty_selection_explains(client, owner_with_images):
    run, _ = owner_with_images
    client.force_login(run.project.owner)
    response = client.post("/generation/images/selection/", {"action": "zip"}, follow=True)
    assert "Select at least one image" in response.content.decode()


def test_deleting_a_selection(client, owner_with_images):
    run, generation = owner_with_images
    client.force_login(run.project.owner)
    ids = list(generation.images.values_list("id", flat=True))[:2]
    response = client.post("/generation/images/selection/", {"images": ids, "action": "delete"}, follow=True)
    assert generation.images.filter(trashed_at__isnull=True).count() == 1
    assert "2 images moved to trash — restore them from Trash within 30 days." in response.content.decode()


def test_image_files_are_for_their_owner_only(client, owner_with_images):
    run, generation = owner_with_images
    image = generation.images.first()
    client.force_login(run.project.owner)
    assert client.get(f"/generation/images/{image.id}/thumbnail/")["Content-Type"] == "image/webp"
    assert client.get(f"/generation/images/{image.id}/").status_code == 200
    client.force_login(UserFactory())
    for url in (
        f"/generation/images/{image.id}/thumbnail/",
        f"/generation/images/{image.id}/file/",
        f"/generation/images/{image.id}/",
        f"/generation/images/{image.id}/download/",
        f"/generation/jobs/{generation.id}/",
    ):
        assert client.get(url).status_code == 404


def test_a_job_can_be_canceled_from_its_page(client, settings, run_on_commit):
    settings.DEMO_GENERATION_SECONDS = 60
    run = trained_model()
    client.force_login(run.project.owner)
    with run_on_commit():
        generation = services.generation_create(user=run.project.owner, training_run=run, prompt="x")
    page = client.get(f"/generation/jobs/{generation.id}/").content.decode()
    assert "Running" in page
    assert f'data-live-url="/generation/jobs/{generation.id}/live/" data-live-active="true"' in page
    response = client.post(f"/generation/jobs/{generation.id}/cancel/", follow=True)
    assert "Generation canceled" in response.content.decode()
    generation.refresh_from_db()
    assert generation.status == Generation.Status.CANCELED
    # A late poll does not bring it back.
    services.generation_sync(generation_id=generation.id)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.CANCELED


def test_the_project_page_shows_its_models_recent_images(client, owner_with_images):
    run, _ = owner_with_images
    client.force_login(run.project.owner)
    page = client.get(f"/projects/{run.project_id}/").content.decode()
    assert "Recent images" in page
    assert page.count('/thumbnail/"') >= 3


def test_forms_never_redirect_off_site(client, owner_with_images):
    run, generation = owner_with_images
    client.force_login(run.project.owner)
    image = generation.images.first()
    response = client.post(
        f"/generation/images/{image.id}/favourite/", {"favourite": "1", "next": "https://evil.example/phish"}
    )
    assert response["Location"] == f"/generation/images/{image.id}/"
    response = client.post("/generation/images/selection/", {"action": "zip", "next": "//evil.example/"})
    assert response["Location"] == "/generation/"


def test_the_form_keeps_a_constant_query_count_whatever_the_number_of_models(client, django_assert_num_queries):
    owner = trained_model().project.owner
    client.force_login(owner)
    # Session, user, the models with their projects, then the usage: limits, images today,
    # spend this month, running jobs.
    with django_assert_num_queries(7):
        page = client.get("/generation/new/").content.decode()
    assert page.count("— simulated</option>") == 1
    trained_model(owner=owner)
    trained_model(owner=owner)
    with django_assert_num_queries(7):
        page = client.get("/generation/new/").content.decode()
    assert page.count("— simulated</option>") == 3


def advanced(page: str) -> str:
    return page.split('<details class="advanced"')[1].split("</details>")[0]


def test_advanced_settings_are_folded_away_unless_changed_or_wrong(client, settings, run_on_commit):
    run = trained_model()
    client.force_login(run.project.owner)
    page = client.get("/generation/new/").content.decode()
    assert advanced(page).startswith(" >")  # closed
    for name in ("guidance", "steps", "lora_scale"):
        assert f'name="{name}"' in advanced(page)
    assert 'name="prompt"' not in advanced(page)
    assert f"Up to {settings.GENERATION_PROMPT_MAX_CHARS} characters, the trigger word included." in page
    assert 'aria-describedby="prompt-count"' in page

    with run_on_commit():
        job = services.generation_create(user=run.project.owner, training_run=run, prompt="x", steps=40)
    again = client.get(f"/generation/new/?from={job.id}").content.decode()
    assert advanced(again).startswith(" open>")  # 40 steps is not the default: the user must see it

    fields = {"model": run.id, "prompt": "x", "num_outputs": 1, "aspect_ratio": "1:1", "guidance": 3, "steps": 99}
    wrong = client.post("/generation/new/", fields | {"lora_scale": 1, "output_format": "webp"}).content.decode()
    assert advanced(wrong).startswith(" open>")
    assert "less than or equal to 50" in advanced(wrong)


def test_every_models_templates_are_on_the_page_so_choosing_one_needs_no_reload(client):
    from projects.models import Project

    product = trained_model()
    person = trained_model(owner=product.project.owner, category=Project.Category.PERSON)
    client.force_login(product.project.owner)
    page = client.get(f"/generation/new/?model={product.id}").content.decode()
    templates = json.loads(page.split('<script id="model-templates" type="application/json">')[1].split("</script>")[0])
    assert set(templates) == {str(product.id), str(person.id), "base"}
    assert any(product.trigger_word in template["prompt"] for template in templates[str(product.id)])
    assert any(person.trigger_word in template["prompt"] for template in templates[str(person.id)])
    assert {t["label"] for t in templates[str(product.id)]} != {t["label"] for t in templates[str(person.id)]}


def test_the_likeness_sort_is_offered_only_for_person_models(client, run_on_commit):
    from projects.models import Project

    product = trained_model(category=Project.Category.PRODUCT)
    owner = product.project.owner
    with run_on_commit():
        services.generation_create(user=owner, training_run=product, prompt="on a shelf", num_outputs=1)
    client.force_login(owner)
    page = client.get("/generation/").content.decode()
    assert "Best likeness" not in page  # a product has no face to compare
    assert "Best likeness" not in client.get("/generation/?sort=likeness").content.decode()

    person = trained_model(owner=owner, category=Project.Category.PERSON)
    assert "Best likeness" in client.get("/generation/").content.decode()
    assert "Best likeness" in client.get(f"/generation/?model={person.id}").content.decode()
    assert "Best likeness" not in client.get(f"/generation/?model={product.id}").content.decode()
