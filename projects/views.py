from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.trash import named_moved_to_trash
from projects import pages, selectors, services
from projects.access import Can, capabilities_of
from projects.forms import PhotoDescriptionForm, PhotoUploadForm, ProjectEditForm, ProjectForm
from projects.models import Photo


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_safe
def project_list(request):
    cards = []
    for project in selectors.project_list_for_user(user=request.user):
        cover = selectors.project_cover(project=project)
        cover_url = selectors.photo_url(photo=cover, variant="thumbnail") if cover else ""
        cards.append(
            {
                "project": project,
                "cover_url": cover_url,
                "role_label": selectors.role_label(project.role),
                # Shared with the user: the card names whose project it is.
                "shared": project.owner_id != request.user.id,
            }
        )
    return render(request, "projects/list.html", {"cards": cards, "photo_max": settings.PROJECT_PHOTOS_MAX})


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request):
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(owner=request.user, **form.cleaned_data)
        except services.ProjectError as error:
            form.add_error("trigger_word", str(error))
        else:
            messages.success(
                request,
                ngettext(
                    "Project “%(name)s” created. Now add %(count)d photo.",
                    "Project “%(name)s” created. Now add %(count)d photos.",
                    settings.PROJECT_PHOTOS_MAX,
                )
                % {"name": project.name, "count": settings.PROJECT_PHOTOS_MAX},
            )
            return redirect("projects:detail", project_id=project.id)
    return render(request, "projects/form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request, project_id):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id, capability=Can.MANAGE)
    form = ProjectEditForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        try:
            services.project_update(
                project=selectors.project_get_for_user(user=request.user, project_id=project_id, capability=Can.MANAGE),
                actor=request.user,
                **form.cleaned_data,
            )
        except services.ProjectError as error:
            form.add_error("trigger_word", str(error))
        else:
            messages.success(request, gettext("Project saved."))
            return redirect("projects:detail", project_id=project.id)
    return render(request, "projects/form.html", {"form": form, "project": project, "creating": False})


def _detail_context(*, request, project) -> dict:
    photos = list(selectors.photo_list_for_project(project=project))
    report = selectors.project_readiness(project=project, photos=photos)
    flagged = {photo_id: check for check in report.checks if check.level != "ok" for photo_id in check.photo_ids}
    can = capabilities_of(project.role)
    rows = [
        {
            "photo": photo,
            "thumbnail_url": selectors.photo_url(photo=photo, variant="thumbnail"),
            # Who may not edit reads the description as text: no box to type into.
            "form": PhotoDescriptionForm(instance=photo, prefix=f"photo-{photo.id}") if can[Can.EDIT] else None,
            "flag": flagged.get(photo.id),
        }
        for photo in photos
    ]
    active = sum(1 for photo in photos if photo.status != Photo.Status.FAILED)
    page = {
        "project": project,
        # What the user's role lets them do here: the page shows only the controls they can use.
        "can": can,
        "role_label": selectors.role_label(project.role),
        "photos": photos,
        "rows": rows,
        "report": report,
        "upload_form": PhotoUploadForm(),
        "photo_count": active,
        "photo_max": settings.PROJECT_PHOTOS_MAX,
        "photo_min": settings.PROJECT_PHOTOS_MIN,
        "can_upload": can[Can.EDIT] and active < settings.PROJECT_PHOTOS_MAX,
        # The page keeps itself current while photos are processed (or a section says so: a run's progress).
        "updating": any(photo.status == Photo.Status.PROCESSING for photo in photos),
        "upload_max_files": settings.PHOTO_UPLOAD_MAX_FILES,
        "upload_max_mb": settings.PHOTO_MAX_BYTES // (1024 * 1024),
    }
    # The training panel and the recent images come from the apps above (projects/pages.py).
    return pages.page_sections_context(request=request, project=project, page=page)


@login_required
@require_safe
def project_detail(request, project_id):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    return render(request, "projects/detail.html", _detail_context(request=request, project=project))


@login_required
@require_safe
@never_cache
def project_live(request, project_id):
    """The changing part of the project page, polled by the page itself while photos are processed."""
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    return render(request, "projects/_live.html", _detail_context(request=request, project=project))


@login_required
@require_http_methods(["GET", "POST"])
def project_delete(request, project_id):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id, capability=Can.MANAGE)
    if request.method == "POST":
        services.project_delete(project=project)
        messages.success(request, gettext("Project “%(name)s” and its photos were deleted.") % {"name": project.name})
        return redirect("dashboard")
    return render(request, "projects/delete.html", {"project": project, "photo_count": project.photos.count()})


@login_required
@require_POST
def photo_upload(request, project_id):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id, capability=Can.EDIT)
    result = services.photo_upload(project=project, files=request.FILES.getlist("photos"), actor=request.user)
    if _wants_json(request):
        return JsonResponse(
            {
                "accepted": [{"id": photo.id, "name": photo.original_filename} for photo in result.accepted],
                "rejected": [{"name": name, "error": error} for name, error in result.rejected],
            },
            status=200 if result.accepted or not result.rejected else 400,
        )
    if not result.accepted and not result.rejected:
        messages.error(request, gettext("Choose one or more photos to upload."))
    if result.accepted:
        count = len(result.accepted)
        messages.success(
            request,
            ngettext(
                "%(count)d photo uploaded; processing it now.", "%(count)d photos uploaded; processing them now.", count
            )
            % {"count": count},
        )
    for name, error in result.rejected:
        messages.error(request, gettext("%(name)s: %(error)s") % {"name": name, "error": error})
    return redirect("projects:detail", project_id=project.id)


@login_required
@require_POST
def photo_describe(request, project_id, photo_id):
    photo = selectors.photo_get_for_user(
        user=request.user, photo_id=photo_id, project_id=project_id, capability=Can.EDIT
    )
    form = PhotoDescriptionForm(request.POST, instance=photo, prefix=f"photo-{photo.id}")
    if form.is_valid():
        photo = services.photo_update_description(
            photo=photo, description=form.cleaned_data["description"], actor=request.user
        )
        # An empty box is allowed (the checklist asks for it again), but it must not read as "Saved".
        status = gettext("Description saved.") if photo.description else gettext("Description cleared.")
        if _wants_json(request):
            return JsonResponse({"id": photo.id, "description": photo.description, "message": status})
        named = (
            gettext("Description saved for “%(name)s”.")
            if photo.description
            else gettext("Description cleared for “%(name)s”.")
        )
        messages.success(request, named % {"name": photo.original_filename})
    else:
        error = "; ".join(
            str(message) for message in form.errors.get("description") or [gettext("Invalid description.")]
        )
        if _wants_json(request):
            return JsonResponse({"error": error}, status=400)
        messages.error(request, gettext("%(name)s: %(error)s") % {"name": photo.original_filename, "error": error})
    return redirect(reverse("projects:detail", kwargs={"project_id": project_id}) + f"#photo-{photo.id}")


@login_required
@require_POST
def photo_delete(request, project_id, photo_id):
    photo = selectors.photo_get_for_user(
        user=request.user, photo_id=photo_id, project_id=project_id, capability=Can.EDIT
    )
    services.photo_trash(photo=photo, actor=request.user)
    messages.success(request, named_moved_to_trash(name=photo.original_filename))
    return redirect("projects:detail", project_id=project_id)
