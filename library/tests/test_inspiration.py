""" "Make more like this": an item's look, as an editable prompt, opens the generation form with the
user's own model, and the job made from it carries the model's trigger word."""

import html
import re
from urllib.parse import urlencode

import pytest

from accounts.tests.factories import UserFactory
from generation import services as generation_services
from generation.models import Generation
from generation.tests.factories import trained_model
from library.models import LibraryItem
from library.tests.factories import photo_item
from projects.tests.factories import ProjectFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def kitchen_photo(owner, name, description, run_on_commit) -> LibraryItem:
    """A real photo, uploaded, processed and analysed into the owner's library."""
    item = photo_item(ProjectFactory(owner=owner, name="Kitchen shots"), name, description, run_on_commit)
    assert item.status == LibraryItem.Status.DONE, item.error
    return item


def inspiration_section(page: str) -> str:
    match = re.search(r'<section class="card" id="inspiration">(.*?)</section>', page, re.DOTALL)
    assert match, "no 'Make more like this' section"
    return match.group(1)


def textarea(page: str, name: str = "prompt") -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert match, f"no {name} textarea"
    return html.unescape(match.group(1)).strip()


def selected_options(page: str) -> list[str]:
    return re.findall(r'<option value="([^"]+)"[^>]*\bselected\b', page)


def form_data(page: str, **overrides) -> dict:
    """What the browser would post from the generation form: its initial values, then the changes."""
    data = {
        "model": selected_options(page)[0],
        "prompt": textarea(page),
        "num_outputs": 1,
        "aspect_ratio": "1:1",
        "seed": "",
        "guidance": 3.5,
        "steps": 28,
        "lora_scale": 1,
        "output_format": "webp",
    }
    return {**data, **overrides}


def test_make_more_like_this_puts_the_users_subject_in_the_photos_look(client, run_on_commit):
    older = trained_model()
    owner = older.project.owner
    newest = trained_model(owner=owner)
    item = kitchen_photo(owner, "coffee.jpg", "a cup of espresso with latte art on a saucer", run_on_commit)
    assert item.aesthetic
    client.force_login(owner)

    # The item page offers the look as an editable prompt, with the newest trained model picked.
    section = inspiration_section(client.get(f"/library/items/{item.id}/").content.decode())
    assert "Make more like this" in section
    assert f'action="/library/items/{item.id}/inspire/"' in section
    assert 'method="get"' in section
    assert textarea(section) == item.aesthetic
    assert selected_options(section) == [str(newest.id)]
    options = re.findall(r'<option value="([^"]+)"', section)
    assert options == [str(newest.id), str(older.id), "base"]

    # The user edits the prompt and picks the other model; the generation form opens filled in.
    prompt = f"{item.aesthetic}, golden hour"
    form_page = client.get(
        f"/library/items/{item.id}/inspire/?" + urlencode({"prompt": prompt, "model": older.id}), follow=True
    )
    assert form_page.redirect_chain[0][0].startswith("/generation/new/?")
    assert form_page.status_code == 200
    page = form_page.content.decode()
    assert textarea(page) == prompt
    assert selected_options(page)[0] == str(older.id)

    # Generating from it: a job on the user's own model, with its trigger word in the prompt.
    with run_on_commit():
        response = client.post("/generation/new/", form_data(page), follow=True)
    job = Generation.objects.get(user=owner)
    assert response.redirect_chain[-1][0] == f"/generation/jobs/{job.id}/"
    job.refresh_from_db()
    assert job.status == Generation.Status.SUCCEEDED, job.error
    assert job.training_run == older
    assert job.simulated
    assert older.trigger_word in job.prompt
    assert job.prompt.endswith(" ".join(prompt.split()))
    assert job.images.count() == 1


def test_a_generated_image_links_to_its_inspiration_and_base_model_users_get_the_base_model(client, run_on_commit):
    owner = UserFactory()
    with run_on_commit():
        generation = generation_services.generation_create(
            user=owner, training_run=None, prompt="a red barn in a snowy field at dusk", num_outputs=1
        )
    image = generation.images.get()
    item = LibraryItem.objects.get(generated_image=image)
    client.force_login(owner)

    page = client.get(f"/generation/images/{image.id}/").content.decode()
    assert f'href="/library/items/{item.id}/#inspiration"' in page
    assert "Make more like this" in page

    section = inspiration_section(client.get(f"/library/items/{item.id}/").content.decode())
    assert re.findall(r'<option value="([^"]+)"', section) == ["base"]
    assert selected_options(section) == ["base"]
    assert "no trained model yet" in section

    form_page = client.get(
        f"/library/items/{item.id}/inspire/?" + urlencode({"prompt": item.aesthetic, "model": "base"}), follow=True
    )
    assert textarea(form_page.content.decode()) == item.aesthetic
    assert selected_options(form_page.content.decode())[0] == "base"


def test_an_image_without_a_library_item_has_no_inspiration_link(client, run_on_commit):
    run = trained_model()
    with run_on_commit():
        generation = generation_services.generation_create(
            user=run.project.owner, training_run=run, prompt="on a beach", num_outputs=1
        )
    image = generation.images.get()
    LibraryItem.objects.filter(generated_image=image).delete()
    client.force_login(run.project.owner)
    page = client.get(f"/generation/images/{image.id}/")
    assert page.status_code == 200
    assert "Make more like this" not in page.content.decode()


def test_the_prompt_in_the_address_is_bounded_escaped_and_never_an_error(client, settings):
    settings.GENERATION_PROMPT_MAX_CHARS = 50
    run = trained_model()
    client.force_login(run.project.owner)

    long = client.get("/generation/new/?" + urlencode({"prompt": "x" * 5000, "model": run.id}))
    assert long.status_code == 200
    assert textarea(long.content.decode()) == "x" * 50

    hostile = client.get("/generation/new/?" + urlencode({"prompt": "</textarea><script>alert(1)</script>"}))
    assert hostile.status_code == 200
    assert "<script>alert(1)</script>" not in hostile.content.decode()

    # Someone else's model, or nonsense, in the address: the form still opens, with none of theirs.
    other = trained_model()
    for model in (other.id, "nonsense"):
        page = client.get("/generation/new/?" + urlencode({"prompt": "in a park", "model": model}))
        assert page.status_code == 200
        picker = re.search(r'<select name="model".*?</select>', page.content.decode(), re.DOTALL).group(0)
        assert re.findall(r'<option value="([^"]+)"', picker) == [str(run.id), "base"]
        assert textarea(page.content.decode()) == "in a park"


def test_someone_elses_item_has_no_inspiration_for_you(client, run_on_commit):
    item = kitchen_photo(UserFactory(), "coffee.jpg", "espresso", run_on_commit)
    client.force_login(UserFactory())
    assert client.get(f"/library/items/{item.id}/").status_code == 404
    assert client.get(f"/library/items/{item.id}/inspire/", {"prompt": "espresso"}).status_code == 404
