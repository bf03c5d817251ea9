"""The Django admin's site: the operators' index and the background-work page."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from generation import services as generation_services
from library import services as library_services
from photoagent import operations
from training import services as training_services

# What each "Re-drive" button runs: the reconcile that beat runs, on demand. Each needs the right
# to change that kind of item, as the admin's own re-drive actions do.
REDRIVE = {
    "training": (training_services.training_reconcile, "training.change_trainingrun", "training run"),
    "generation": (generation_services.generation_reconcile, "generation.change_generation", "generation job"),
    "library": (library_services.library_reconcile, "library.change_libraryitem", "library item"),
}


# The page counts every user's work of each kind: it needs the right to see each kind in the admin
# (viewing or changing it), as the change lists do; being staff is not enough.
BACKGROUND_WORK_MODELS = (("training", "trainingrun"), ("generation", "generation"), ("library", "libraryitem"))


def may_see_background_work(user) -> bool:
    return all(
        user.has_perm(f"{app}.view_{model}") or user.has_perm(f"{app}.change_{model}")
        for app, model in BACKGROUND_WORK_MODELS
    )


class PhotoAgentAdminSite(admin.AdminSite):
    site_header = "PhotoAgent operations"
    site_title = "PhotoAgent admin"
    index_template = "admin/photoagent_index.html"

    def each_context(self, request):
        return {**super().each_context(request), "may_see_background_work": may_see_background_work(request.user)}

    def get_urls(self):
        return [
            path("background-work/", self.admin_view(self.background_work), name="background_work"),
            *super().get_urls(),
        ]

    def background_work(self, request):
        """Queue depths, work per status and stuck items, with buttons that re-drive stuck items."""
        if not may_see_background_work(request.user):
            raise PermissionDenied
        if request.method == "POST":
            return _redrive(request)
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET", "POST"])
        context = {
            **self.each_context(request),
            "title": "Background work",
            "broker": operations.broker_queues(),
            "kinds": operations.background_work(),
            "stuck_minutes": int(operations.STUCK_AFTER.total_seconds() // 60),
            "redrive_after": settings.REDRIVE_AFTER_SECONDS,
            "redrivable": {kind for kind, (_, permission, _) in REDRIVE.items() if request.user.has_perm(permission)},
        }
        return TemplateResponse(request, "admin/background_work.html", context)


def _redrive(request):
    kind = request.POST.get("kind", "")
    if kind not in REDRIVE:
        messages.error(request, "Choose what to re-drive: training, generation or library.")
        return redirect("admin:background_work")
    reconcile, permission, noun = REDRIVE[kind]
    if not request.user.has_perm(permission):
        raise PermissionDenied
    count = reconcile()
    messages.success(request, f"Re-driven {count} {noun}{'' if count == 1 else 's'}.")
    return redirect("admin:background_work")
