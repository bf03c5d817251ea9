from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core import health
from core.api import errors as api_errors


@require_safe
def landing(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "core/landing.html")


@login_required
@require_safe
def dashboard(request):
    return redirect("projects:list")


@never_cache
@require_safe
def healthz(request):
    report = health.run_checks()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


def bad_request(request, exception):
    if request.path.startswith("/api/"):
        return api_errors.json_bad_request(request, exception)
    return defaults.bad_request(request, exception)


def page_not_found(request, exception):
    if request.path.startswith("/api/"):
        return api_errors.json_not_found(request, exception)
    return render(request, "404.html", status=404)


def server_error(request):
    if request.path.startswith("/api/"):
        return api_errors.json_server_error(request)
    return render(request, "500.html", status=500)
