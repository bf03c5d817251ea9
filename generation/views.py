from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from zipstream import ZIP_STORED, ZipStream

from core.exceptions import ProviderError
from core.files import StoredFileMissing, open_stored
from core.parsing import int_or_none
from core.ratelimit import by_user, rate_limit
from core.trash import moved_to_trash
from generation import selectors, services
from generation.backends.translation import get_translation_backend
from generation.forms import BASE_MODEL, GenerationForm
from generation.models import Generation
from generation.providers import new_jobs_simulated
from generation.services.prompts import prompt_with_trigger
from projects.access import Can
from projects.models import Project

GALLERY_PAGE_SIZE = 24
ZIP_MAX_IMAGES = 200


def _back_to(request, default: str) -> str:
    """Where to return after a form: the page it came from, when that is one of ours."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _initial_from(request, models) -> dict:
    """Form values from ?model=, ?prompt= (with ?suggestion=), ?from=<job> ("use these settings
    again": the prompt as typed, and its translation choice) and ?translate=0 (send as typed)."""
    initial = {}
    source_id = int_or_none(request.GET.get("from"))
    if source_id:
        source = selectors.generation_get_for_user(user=request.user, generation_id=source_id)
        initial = {
            "model": str(source.training_run_id or BASE_MODEL),
            "prompt": source.prompt_as_typed,
            "translate_prompt": source.translate_prompt,
            "num_outputs": source.num_outputs,
            "aspect_ratio": source.aspect_ratio,
            "seed": source.seed,
            "guidance": source.guidance,
            "steps": source.steps,
            "lora_scale": source.lora_scale,
            "output_format": source.output_format,
        }
    elif request.GET.get("model"):
        initial["model"] = request.GET["model"]
    elif models:
        initial["model"] = str(models[0].id)
    # "Make more like this" in the library: a prompt to start from, cut to what the form accepts.
    prompt = request.GET.get("prompt", "").strip()
    if prompt and not source_id:
        initial["prompt"] = prompt[: settings.GENERATION_PROMPT_MAX_CHARS]
        initial["suggestion"] = request.GET.get("suggestion", "")
    if request.GET.get("translate") == "0":
        initial["translate_prompt"] = False
    return initial


def _trigger_word_note(generation: Generation, run) -> str:
    """What the form says after a job was recorded with the trigger word added, else ""."""
    if run is None or not prompt_with_trigger(prompt=generation.prompt_typed, trigger_word=run.trigger_word)[1]:
        return ""
    if generation.prompt_translation == Generation.PromptTranslation.PENDING:
        return gettext("We added your trigger word “%(trigger)s” to the English prompt.") % {
            "trigger": run.trigger_word
        }
    if translation.get_language() != settings.LANGUAGE_CODE:
        # The prompt sent starts with the English "a photo of …": quoted, it would be the one English
        # sentence on a page in another language; the job page shows it as sent.
        return gettext("We added your trigger word “%(trigger)s” at the start of the prompt.") % {
            "trigger": run.trigger_word
        }
    return gettext("We added your trigger word “%(trigger)s”: the prompt is “%(prompt)s”.") % {
        "trigger": run.trigger_word,
        "prompt": generation.prompt,
    }


def _refuse_forced_model(request, form: GenerationForm) -> None:
    """A model posted that the picker did not offer: 403 when it is one of a project the user is a
    member of (their role may not generate), else the form's own "not a valid choice"."""
    run_id = int_or_none(request.POST.get("model"))
    if run_id and str(run_id) not in form.models and selectors.model_get_for_user(user=request.user, run_id=run_id):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
@rate_limit("generation_create", key=by_user)
def generation_new(request):
    models = selectors.model_choices_for_user(user=request.user)
    form = GenerationForm(request.POST or None, models=models, initial=_initial_from(request, models))
    if request.method == "POST":
        _refuse_forced_model(request, form)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("model")
        run = form.training_run()
        try:
            generation = services.generation_create(user=request.user, training_run=run, **data)
        except services.GenerationNotAllowed as refusal:
            form.add_error(None, str(refusal))
        else:
            if note := _trigger_word_note(generation, run):
                messages.info(request, note)
            return redirect("generation:job", generation_id=generation.id)
    # The prompt templates of every model choice, in the reader's language (sent in English when
    # used unchanged): picking another model swaps them in place, no reload.
    templates_by_model = {
        value: selectors.prompt_template_choices(
            category=run.project.category if run else None, trigger_word=run.trigger_word if run else None
        )
        for value, run in [*form.models.items(), (BASE_MODEL, None)]
    }
    selected = str(form["model"].value() or "")
    templates = templates_by_model.get(selected, templates_by_model[BASE_MODEL])
    context = {
        "form": form,
        "models": models,
        "templates": templates,
        "trigger_words": {str(model.id): model.trigger_word for model in models},
        "templates_by_model": templates_by_model,
        "prompt_max_chars": settings.GENERATION_PROMPT_MAX_CHARS,
        "usage": selectors.generation_usage(user=request.user),
        "price": selectors.generation_estimate(num_outputs=1, simulated=new_jobs_simulated()),
        "translates": get_translation_backend().translates,
    }
    return render(request, "generation/new.html", context)


def _job_context(*, user, generation: Generation) -> dict:
    images = [
        {"image": image, "thumbnail_url": selectors.image_url(image=image, variant="thumbnail")}
        for image in generation.images.all()
    ]
    return {
        "generation": generation,
        # Write controls the reader's role allows (a viewer sees none).
        "can_cancel": generation.is_active and selectors.generation_can_cancel(user=user, generation=generation),
        "can_generate": generation.training_run_id is None
        or any(run.id == generation.training_run_id for run in selectors.model_choices_for_user(user=user)),
        "images": images,
        "wait_notice": selectors.generation_wait_notice(generation=generation),
        "prompt_max_chars": settings.GENERATION_PROMPT_MAX_CHARS,
    }


@login_required
@require_safe
def generation_detail(request, generation_id):
    generation = selectors.generation_get_for_user(user=request.user, generation_id=generation_id)
    return render(request, "generation/job.html", _job_context(user=request.user, generation=generation))


@login_required
@require_safe
@never_cache
def generation_live(request, generation_id):
    """The changing part of the job page, polled by the page itself while the job is active."""
    generation = selectors.generation_get_for_user(user=request.user, generation_id=generation_id)
    return render(request, "generation/_job_live.html", _job_context(user=request.user, generation=generation))


@login_required
@require_POST
def generation_cancel(request, generation_id):
    generation = selectors.generation_get_for_user(user=request.user, generation_id=generation_id)
    if not selectors.generation_can_cancel(user=request.user, generation=generation):
        raise PermissionDenied
    try:
        generation = services.generation_cancel(generation=generation, actor=request.user)
    except ProviderError as error:
        messages.error(
            request,
            gettext("Could not reach the provider to cancel: %(error)s. Try again in a minute.") % {"error": error},
        )
    else:
        if generation.status == Generation.Status.CANCELED:
            messages.success(request, gettext("Generation canceled."))
    return redirect("generation:job", generation_id=generation.id)


@login_required
@require_safe
def gallery(request):
    run_id = int_or_none(request.GET.get("model"))
    project_id = int_or_none(request.GET.get("project"))
    favourites = request.GET.get("favourites") == "1"
    models = selectors.model_choices_for_user(user=request.user, capability=Can.VIEW)
    # Likeness is measured against the face of a person model: other images have none to sort by.
    person_models = [run for run in models if run.project.category == Project.Category.PERSON]
    likeness_sort = any(run_id in (None, run.id) for run in person_models)
    sort = request.GET.get("sort") if request.GET.get("sort") in selectors.IMAGE_SORTS else "newest"
    if sort == "likeness" and not likeness_sort:
        sort = "newest"
    images = selectors.image_list_for_user(
        user=request.user, run_id=run_id, project_id=project_id, favourites=favourites, sort=sort
    )
    page = Paginator(images, GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
    editable = selectors.editable_project_ids(user=request.user)
    tiles = [
        {
            "image": image,
            "can_edit": selectors.image_editable(user=request.user, image=image, editable=editable),
            "thumbnail_url": selectors.image_url(image=image, variant="thumbnail"),
            "file_url": selectors.image_url(image=image, variant="file"),
        }
        for image in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "tiles": tiles,
        "models": models,
        "likeness_sort": likeness_sort,
        # The selection may be deleted only when the reader may delete some of the images shown.
        "can_delete": any(tile["can_edit"] for tile in tiles),
        "filters": {"model": run_id, "project": project_id, "favourites": favourites, "sort": sort},
        "query": query.urlencode(),
    }
    return render(request, "generation/gallery.html", context)


@login_required
@require_safe
def image_detail(request, image_id):
    image = selectors.image_get_for_user(user=request.user, image_id=image_id)
    editable = selectors.editable_project_ids(user=request.user)
    context = {
        "image": image,
        "generation": image.generation,
        "can_edit": selectors.image_editable(user=request.user, image=image, editable=editable),
        "file_url": selectors.image_url(image=image, variant="file"),
    }
    return render(request, "generation/image.html", context)


@login_required
# Like the other file views: a shared cache (a proxy, a CDN) must never keep one user's file.
@cache_control(private=True)
@require_safe
def image_download(request, image_id):
    image = selectors.image_get_for_user(user=request.user, image_id=image_id)
    return FileResponse(open_stored(image.file.name), as_attachment=True, filename=selectors.download_name(image=image))


@login_required
@require_POST
def image_favourite(request, image_id):
    image = selectors.image_get_for_user(user=request.user, image_id=image_id, capability=Can.EDIT)
    services.image_set_favourite(image=image, favourite=request.POST.get("favourite") == "1")
    return redirect(_back_to(request, reverse("generation:image", kwargs={"image_id": image.id})))


@login_required
@require_POST
def image_delete(request, image_id):
    image = selectors.image_get_for_user(user=request.user, image_id=image_id, capability=Can.EDIT)
    services.image_trash(image=image, actor=request.user)
    messages.success(request, moved_to_trash(count=1, singular="image"))
    return redirect("generation:gallery")


# In an archive whose images were not all in storage: which ones are left out.
ZIP_MISSING_NOTE = "missing-from-storage.txt"
ZIP_READ_BYTES = 256 * 1024


def _chunks(source) -> Iterator[bytes]:
    with source:
        while chunk := source.read(ZIP_READ_BYTES):
            yield chunk


def _zip_stream(images) -> Iterator[bytes]:
    """The images as one zip, streamed as it is made. Stored, not deflated: the images are compressed already."""
    archive = ZipStream(compress_type=ZIP_STORED)
    missing = []
    for image in images:
        name = selectors.download_name(image=image)
        try:
            source = open_stored(image.file.name)
        except StoredFileMissing:
            # The response has started: the others still go out, with a note naming this one.
            missing.append(name)
            continue
        archive.add(_chunks(source), name)
        yield from archive.all_files()
    if missing:
        note = ngettext(
            "This image is no longer in storage, so it is not in this archive:",
            "These images are no longer in storage, so they are not in this archive:",
            len(missing),
        )
        archive.add(note + "\n" + "\n".join(missing) + "\n", ZIP_MISSING_NOTE)
    yield from archive.finalize()


@login_required
@require_POST
def images_action(request):
    """The gallery's selection: download as a zip, or move to the trash."""
    ids = [image_id for image_id in map(int_or_none, request.POST.getlist("images")) if image_id]
    images = selectors.images_for_download(user=request.user, image_ids=ids[:ZIP_MAX_IMAGES])
    if not images:
        messages.error(request, gettext("Select at least one image first."))
        return redirect(_back_to(request, reverse("generation:gallery")))
    if request.POST.get("action") == "delete":
        editable = selectors.editable_project_ids(user=request.user)
        if not all(selectors.image_editable(user=request.user, image=image, editable=editable) for image in images):
            raise PermissionDenied  # a viewer's selection: nothing is moved
        moved = services.images_trash(user=request.user, image_ids=[image.id for image in images])
        messages.success(request, moved_to_trash(count=moved, singular="image"))
        return redirect(_back_to(request, reverse("generation:gallery")))
    response = StreamingHttpResponse(_zip_stream(images), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="photoagent-{len(images)}-images.zip"'
    return response


@require_safe
def lora_file(request, token):
    """The LoRA of a trained model, for the provider, behind a signed URL that expires in an hour."""
    run = selectors.lora_run_from_token(token=token)
    if run is None:
        raise Http404
    return FileResponse(open_stored(run.lora_file.name), filename="lora.safetensors")
