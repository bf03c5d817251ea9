"""Analysis with a vision-language model: the real InferenceClient.chat_completion against a local
OpenAI-compatible stand-in, through the task, the service, search and the project page."""

import base64
import io
import json
import re

import pytest
from PIL import Image

from generation import services as generation_services
from library import selectors
from library.backends.huggingface import LIMITS, MAX_TAGS, MalformedAnswer, encode_jpeg, parse_answer
from library.models import LibraryItem
from library.tasks import analyse_item
from projects import services as project_services
from projects.models import Photo
from projects.tests.factories import PHOTOS, ProjectFactory, upload
from standins.chat import GOOD, TOKEN, start_chat_standin

pytestmark = pytest.mark.django_db

GOOD_CAPTION = GOOD["caption"]


@pytest.fixture
def vlm(settings):
    server = start_chat_standin()
    settings.LIBRARY_ANALYSIS_BACKEND = "library.backends.huggingface.HuggingFaceAnalysisBackend"
    settings.HF_TOKEN = TOKEN
    settings.HF_VLM_BASE_URL = server.base_url
    settings.HF_VLM_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"
    settings.HF_VLM_TIMEOUT = 1.0
    yield server
    server.shutdown()
    server.server_close()


def add_photo(run_on_commit, project=None, name="coffee.jpg", description="") -> LibraryItem:
    project = project or ProjectFactory(name="Morning coffee")
    with run_on_commit():
        photo = project_services.photo_upload(
            project=project, files=[upload((PHOTOS / name).read_bytes(), name)]
        ).accepted[0]
    if description:
        Photo.objects.filter(id=photo.id).update(description=description)
    item = LibraryItem.objects.get(photo=photo)
    item.refresh_from_db()
    return item


def analyse_again(item: LibraryItem) -> LibraryItem:
    analyse_item.delay(item.id)
    item.refresh_from_db()
    return item


def prompt_text(call) -> str:
    return next(part["text"] for part in call.json["messages"][0]["content"] if part["type"] == "text")


# The good path
# ------------------------------------------------------------------------------


def test_a_good_answer_is_stored_and_found_by_search(vlm, run_on_commit):
    item = add_photo(run_on_commit)

    assert item.status == LibraryItem.Status.DONE, item.error
    assert (item.backend, item.error) == ("huggingface", "")
    assert item.caption == GOOD_CAPTION
    assert item.description == GOOD["description"]
    assert item.aesthetic == GOOD["aesthetic"]
    # lower-cased, deduplicated, "#cafe" cleaned
    assert item.tags == ["espresso", "coffee", "latte art", "cup", "saucer", "cafe", "warm light"]
    assert item.embedding is not None
    assert item.colours  # the local facts are kept alongside
    assert item.sha256

    hits = selectors.library_search(user=item.user, query="coffee with latte art")
    assert hits[0].item == item
    assert "latte" in hits[0].matched


def test_the_request_carries_the_image_as_a_data_url_and_the_model_id(vlm, run_on_commit):
    add_photo(run_on_commit)

    [call] = vlm.requests
    assert call.path == "/v1/chat/completions"
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.json["model"] == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert call.json["stream"] is False
    assert call.json["max_tokens"] > 0
    [message] = call.json["messages"]
    assert message["role"] == "user"
    image_part = next(part for part in message["content"] if part["type"] == "image_url")
    url = image_part["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    base64.b64decode(url.split(",", 1)[1], validate=True)
    mime, size = call.image
    assert mime == "image/jpeg"
    assert max(size) <= 1024
    # JSON is asked for by the prompt and, where the server supports it, by a response format.
    text = prompt_text(call)
    for key in ("caption", "description", "aesthetic", "tags"):
        assert f'"{key}"' in text
    assert "Never name a person or guess who anyone is" in text
    schema = call.json["response_format"]["value"]
    assert schema["required"] == ["caption", "description", "aesthetic", "tags"]


def test_the_users_own_words_are_context_without_the_trigger_word_or_the_projects_name(vlm, run_on_commit):
    project = ProjectFactory(name="Blue mug", trigger_word="TOKMUG")
    item = add_photo(run_on_commit, project=project)
    with run_on_commit():
        project_services.photo_update_description(photo=item.photo, description="TOKMUG on my desk at work")

    text = prompt_text(vlm.requests[-1])
    assert "«the subject on my desk at work»" in text
    assert "TOKMUG" not in text
    # The project's name is a filter: given as words to describe, the model writes it into every
    # caption and tag list of the project, and each of its items matches a search for it.
    assert "blue mug" not in text.lower()
    assert "product" not in text.lower()
    item.refresh_from_db()
    assert item.caption == GOOD_CAPTION
    assert "espresso" in item.tags  # the model's own tags are kept


def test_a_generated_images_prompt_is_given_as_context(vlm, run_on_commit, instant_demo):
    project = ProjectFactory()
    with run_on_commit():
        generation = generation_services.generation_create(
            user=project.owner, training_run=None, prompt="a red barn in a snowy field at dusk", num_outputs=1
        )
    item = LibraryItem.objects.get(generated_image__generation=generation)
    assert item.status == LibraryItem.Status.DONE, item.error
    text = prompt_text(vlm.requests[-1])
    assert "You describe one generated image" in text
    assert "the prompt it was generated from is «a red barn in a snowy field at dusk»" in text


def test_the_router_is_used_when_no_base_url_is_set(vlm, run_on_commit, settings, monkeypatch):
    """Production without HF_VLM_BASE_URL: huggingface_hub's conversational auto-router posts the
    model id to <router>/v1/chat/completions (the provider is chosen server-side, no Hub lookup)."""
    settings.HF_VLM_BASE_URL = ""
    monkeypatch.setattr("huggingface_hub.inference._providers.CONVERSATIONAL_AUTO_ROUTER.base_url", vlm.url)
    item = add_photo(run_on_commit)

    assert item.status == LibraryItem.Status.DONE, item.error
    assert [call.path for call in vlm.requests] == ["/v1/chat/completions"]
    assert vlm.requests[0].json["model"] == "Qwen/Qwen2.5-VL-7B-Instruct"
    # To the router the schema goes in OpenAI's json_schema form.
    assert vlm.requests[0].json["response_format"]["type"] == "json_schema"


# Answers that need reading with care
# ------------------------------------------------------------------------------


def test_fenced_json_with_prose_around_it_is_read(vlm, run_on_commit):
    vlm.answer_next(f"Here is the analysis you asked for:\n```json\n{json.dumps(GOOD, indent=2)}\n```\nHope it helps!")
    item = add_photo(run_on_commit)

    assert item.status == LibraryItem.Status.DONE, item.error
    assert item.caption == GOOD_CAPTION
    assert len(vlm.requests) == 1


def test_a_malformed_answer_is_asked_for_once_more(vlm, run_on_commit):
    vlm.answer_next("A cup of coffee on a table.")
    item = add_photo(run_on_commit)

    assert item.status == LibraryItem.Status.DONE, item.error
    assert item.caption == GOOD_CAPTION
    assert len(vlm.requests) == 2
    assert "Your previous reply could not be used (no JSON object in the answer" in prompt_text(vlm.requests[1])
    assert "previous reply" not in prompt_text(vlm.requests[0])


def test_two_malformed_answers_fail_the_item_with_the_reason(vlm, run_on_commit):
    vlm.answer_next("I cannot help with that.")
    vlm.answer_next('{"caption": "A cup of coffee", "description": "cut off')
    item = add_photo(run_on_commit)

    assert item.status == LibraryItem.Status.FAILED
    assert item.backend == "huggingface"
    assert item.error.startswith("The vision model's answer could not be used, 2 times:")
    assert "cut off or invalid" in item.error
    assert item.embedding is None
    assert len(vlm.requests) == 2
    assert item.photo.ai_caption == ""


def test_json_without_a_caption_or_description_counts_as_malformed(vlm, run_on_commit):
    vlm.answer_next({"labels": ["cup"]})
    vlm.answer_next([])
    item = add_photo(run_on_commit)

    assert item.status == LibraryItem.Status.FAILED
    assert "no caption or description in the JSON (keys: labels)" in prompt_text(vlm.requests[1])
    assert item.error.endswith("no JSON object in the answer: [].")
    assert len(vlm.requests) == 2


# Provider errors
# ------------------------------------------------------------------------------


def test_a_429_is_retried_by_the_task(vlm, run_on_commit, worker_retries):
    vlm.fail_next(429, headers={"Retry-After": "0"})
    item = add_photo(run_on_commit)

    assert item.status == LibraryItem.Status.DONE, item.error
    assert len(vlm.requests) == 2


def test_a_timeout_is_retried_by_the_task(vlm, run_on_commit, worker_retries, settings):
    settings.HF_VLM_TIMEOUT = 0.3
    vlm.slow_next(1.2)
    item = add_photo(run_on_commit)

    assert item.status == LibraryItem.Status.DONE, item.error
    assert len(vlm.requests) == 2


def test_retries_running_out_fail_the_item_with_the_reason(vlm, run_on_commit, worker_retries):
    attempts = analyse_item.max_retries + 1
    for _ in range(attempts):
        vlm.fail_next(503, headers={"Retry-After": "0"})
    item = add_photo(run_on_commit)

    assert item.status == LibraryItem.Status.FAILED
    assert item.error.startswith("The analysis provider kept failing: The vision model answered 503")
    assert len(vlm.requests) == attempts


def test_timeouts_running_out_fail_the_item(vlm, run_on_commit, worker_retries, settings):
    settings.HF_VLM_TIMEOUT = 0.2
    attempts = analyse_item.max_retries + 1
    for _ in range(attempts):
        vlm.slow_next(0.6)
    item = add_photo(run_on_commit)

    assert item.status == LibraryItem.Status.FAILED
    assert "did not answer within 0.2 s" in item.error


@pytest.mark.parametrize(
    ("status", "token", "reason"),
    [(400, TOKEN, "answered 400"), (422, TOKEN, "answered 422"), (None, "hf_wrong", "answered 401")],
)
def test_a_refusal_fails_the_item_at_once_with_the_reason(vlm, run_on_commit, settings, status, token, reason):
    settings.HF_TOKEN = token
    if status:
        # Refused with structured output, then refused again as a plain request.
        for _ in range(2):
            vlm.fail_next(status, {"error": {"message": "Input validation error: image too large"}})
    item = add_photo(run_on_commit)

    assert item.status == LibraryItem.Status.FAILED
    assert item.backend == "huggingface"
    assert reason in item.error
    if status:
        assert "image too large" in item.error
    assert len(vlm.requests) == (2 if status else 1)  # not retried beyond the plain request


def test_a_provider_refusing_structured_output_is_asked_in_plain_text(vlm, run_on_commit):
    vlm.fail_next(400, {"error": {"message": "response_format is not supported for this model"}})
    item = add_photo(run_on_commit)

    assert item.status == LibraryItem.Status.DONE, item.error
    assert len(vlm.requests) == 2
    assert "response_format" in vlm.requests[0].json
    assert vlm.requests[1].json.get("response_format") is None


def test_a_failed_item_is_analysed_again_when_asked(vlm, run_on_commit):
    vlm.fail_next(400)
    vlm.fail_next(400)
    item = add_photo(run_on_commit)
    assert item.status == LibraryItem.Status.FAILED

    item = analyse_again(item)
    assert item.status == LibraryItem.Status.DONE, item.error
    assert item.error == ""


# Training photos: the caption is offered, never forced
# ------------------------------------------------------------------------------


def test_the_caption_is_offered_with_the_trigger_word_and_used_on_request(vlm, run_on_commit, client):
    project = ProjectFactory(name="Morning coffee", trigger_word="TOKCUP")
    item = add_photo(run_on_commit, project=project)
    photo = Photo.objects.get(id=item.photo_id)
    offered = "a photo of TOKCUP, a cup of espresso with latte art on a white saucer"
    assert photo.ai_caption == offered
    assert photo.description == ""  # nothing written for the user

    client.force_login(project.owner)
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert f"Suggested: {offered}" in page
    assert f'name="photo-{photo.id}-description" value="{offered}"' in page
    assert "Use this" in page

    with run_on_commit():
        response = client.post(
            f"/projects/{project.id}/photos/{photo.id}/description/",
            {f"photo-{photo.id}-description": offered},
            follow=True,
        )
    assert "saved" in response.content.decode()
    photo.refresh_from_db()
    assert photo.description == offered
    assert "TOKCUP" in photo.description
    # Once used, it is no longer offered.
    assert "Suggested:" not in client.get(f"/projects/{project.id}/").content.decode()


def test_the_users_own_description_is_never_overwritten(vlm, run_on_commit, client):
    project = ProjectFactory(trigger_word="TOKOWN")
    item = add_photo(run_on_commit, project=project)
    with run_on_commit():
        project_services.photo_update_description(photo=item.photo, description="TOKOWN cup, my favourite")
    vlm.answer_next({**GOOD, "caption": "TOKOWN espresso cup on a saucer"})
    analyse_again(item)

    photo = Photo.objects.get(id=item.photo_id)
    assert photo.description == "TOKOWN cup, my favourite"
    assert photo.ai_caption == "TOKOWN espresso cup on a saucer"  # the trigger word is there already
    client.force_login(project.owner)
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "Suggested: TOKOWN espresso cup on a saucer" in page
    assert "TOKOWN cup, my favourite" in page


def test_the_local_backend_offers_no_caption(run_on_commit):
    item = add_photo(run_on_commit)
    assert item.backend == "local"
    assert Photo.objects.get(id=item.photo_id).ai_caption == ""


# Reading answers (no server)
# ------------------------------------------------------------------------------


def test_wrong_types_are_read_as_text_and_tags_normalised():
    analysis = parse_answer(
        json.dumps(
            {
                "Caption": ["A mug", "on a desk"],
                "description": 42,
                "aesthetic": {"subject": "a blue mug", "composition": "centred", "mood": None},
                "tags": "Mug, DESK,  blue  mug ; mug\n#Office",
                "extra": "ignored",
            }
        )
    )
    assert analysis.caption == "A mug, on a desk"
    assert analysis.description == "42"
    assert analysis.aesthetic == "a blue mug, centred"
    assert analysis.tags == ["mug", "desk", "blue mug", "office"]


def test_missing_keys_are_filled_from_the_others():
    analysis = parse_answer('{"description": "A blue mug on a desk. Morning light."}')
    assert analysis.caption == "A blue mug on a desk."
    assert (analysis.aesthetic, analysis.tags) == ("", [])
    assert parse_answer('{"caption": "A blue mug"}').description == "A blue mug"


def test_overlong_values_are_clipped_and_tags_capped():
    words = " ".join(["word"] * 2000)
    analysis = parse_answer(
        json.dumps(
            {
                "caption": f"A\nmug {words}",
                "description": words,
                "aesthetic": words,
                "tags": [f"tag {n}" for n in range(40)] + ["x" * 80, None, True],
            }
        )
    )
    assert len(analysis.caption) <= LIMITS["caption"]
    assert "\n" not in analysis.caption
    assert analysis.caption.endswith("…")
    assert len(analysis.description) <= LIMITS["description"]
    assert len(analysis.aesthetic) <= LIMITS["aesthetic"]
    assert analysis.tags == [f"tag {n}" for n in range(MAX_TAGS)]


@pytest.mark.parametrize(
    "answer",
    [
        '```\n{"caption": "A mug"}\n```',
        'Sure. {"caption": "A mug"} Anything else?',
        '```json\n{"caption": "A mug"}',  # an unclosed fence
        '[{"caption": "A mug"}]',
        '{"result": {"caption": "A mug"}}',
        'Thinking {not json} then {"caption": "A mug"}',
    ],
)
def test_json_is_found_where_models_put_it(answer):
    assert parse_answer(answer).caption == "A mug"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("", "empty answer"),
        ("   ", "empty answer"),
        ("A mug on a desk.", "no JSON object in the answer: A mug on a desk."),
        ('{"caption": "A mug", ', "could not be read"),
        ('{"caption": "", "tags": ["mug"]}', "no caption or description in the JSON (keys: caption, tags)"),
        ("[1, 2]", "no JSON object"),
    ],
)
def test_unusable_answers_say_why(answer, reason):
    with pytest.raises(MalformedAnswer, match=re.escape(reason)):
        parse_answer(answer)


def test_large_images_are_sent_with_a_long_side_of_at_most_1024():
    jpeg = encode_jpeg(Image.new("RGBA", (3000, 1500), (10, 20, 30, 255)))
    with Image.open(io.BytesIO(jpeg)) as sent:
        assert (sent.format, sent.mode, sent.size) == ("JPEG", "RGB", (1024, 512))
