from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_POST, require_safe

from core.exceptions import ProviderError
from core.files import open_stored
from projects import selectors as project_selectors
from projects.access import Can, capabilities_of, roles_that
from training import selectors, services
from training.models import TrainingRun


@login_required
@require_POST
def training_start(request, project_id):
    project = project_selectors.project_get_for_user(user=request.user, project_id=project_id, capability=Can.TRAIN)
    preset = request.POST.get("preset", TrainingRun.Preset.BALANCED)
    if preset not in TrainingRun.Preset.values:
        messages.error(request, gettext("Choose one of the training presets."))
        return redirect("projects:detail", project_id=project.id)
    run = services.training_start(project=project, preset=preset, actor=request.user)
    messages.success(request, gettext("Training queued. We will email you when your model is ready."))
    return redirect("training:run", run_id=run.id)


def _run_context(*, run: TrainingRun) -> dict:
    simulated = run.simulated
    can = capabilities_of(getattr(run, "role", None))
    retry = can[Can.TRAIN] and run.status in (TrainingRun.Status.FAILED, TrainingRun.Status.CANCELED)
    return {
        "run": run,
        # Cancel and retry only for who may train (the owner); every member sees the progress and logs.
        "can": can,
        # A retry is a paid training: the owner's limits it is charged to are shown beside it.
        "training_usage": selectors.training_usage(owner_id=run.project.owner_id) if retry else None,
        "loss_chart": selectors.loss_chart(run=run),
        # Only a real provider sends webhooks; a simulated run is driven on our side and never lags for lack of one.
        "polling_only": not simulated and not settings.SITE_URL.startswith("https://"),
        "simulated": simulated,
        "wait_notice": selectors.run_wait_notice(run=run),
        "charge_note": selectors.training_charge_note(run=run) if run.status == TrainingRun.Status.CANCELED else "",
    }


@login_required
@require_safe
def run_detail(request, run_id):
    run = selectors.run_get_for_user(user=request.user, run_id=run_id)
    return render(request, "training/run.html", _run_context(run=run))


@login_required
@require_safe
@never_cache
def run_live(request, run_id):
    """The changing part of the run page, polled by the page itself while the run is active."""
    run = selectors.run_get_for_user(user=request.user, run_id=run_id)
    return render(request, "training/_run_live.html", _run_context(run=run))


@login_required
@require_POST
def run_cancel(request, run_id):
    run = selectors.run_get_for_user(user=request.user, run_id=run_id, capability=Can.TRAIN)
    try:
        run = services.training_cancel(run=run, actor=request.user)
    except ProviderError as error:
        messages.error(
            request,
            gettext("Could not reach the provider to cancel: %(error)s. Try again in a minute.") % {"error": error},
        )
    else:
        if run.status == TrainingRun.Status.CANCELED:
            messages.success(
                request, gettext("Training canceled. %(charge)s") % {"charge": selectors.training_charge_note(run=run)}
            )
    return redirect("training:run", run_id=run.id)


@login_required
@require_POST
def run_retry(request, run_id):
    run = selectors.run_get_for_user(user=request.user, run_id=run_id, capability=Can.TRAIN)
    new_run = services.training_start(project=run.project, preset=run.preset, actor=request.user)
    return redirect("training:run", run_id=new_run.id)


@login_required
@require_safe
def model_list(request):
    # Every model the user may see; the page offers generating only with those their role allows.
    runs = selectors.trained_models_for_user(user=request.user, capability=Can.VIEW)
    return render(request, "training/models.html", {"runs": runs, "generate_roles": roles_that(Can.GENERATE)})


@login_required
# Like the other file views: a shared cache (a proxy, a CDN) must never keep one user's file.
@cache_control(private=True)
@require_safe
def lora_download(request, run_id):
    # The weights let whoever holds them generate elsewhere: for those who may generate with them.
    run = selectors.run_get_for_user(user=request.user, run_id=run_id, capability=Can.GENERATE)
    if not run.lora_file:
        raise Http404
    filename = f"{run.trigger_word}-lora{'-SIMULATED' if run.simulated else ''}.safetensors"
    return FileResponse(open_stored(run.lora_file.name), as_attachment=True, filename=filename)
