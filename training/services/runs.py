"""Starting and canceling a run."""

import logging

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core import failures
from core.exceptions import PermanentProviderError, ProviderError, Refusal
from projects import services as project_services
from projects.events import event_record
from projects.models import Project, ProjectEvent
from training.models import TrainingRun
from training.providers import backend_for
from training.selectors import training_cost, training_estimate, training_parameters, training_refusal
from training.services.states import run_end
from training.tasks import submit_training

logger = logging.getLogger(__name__)


class TrainingNotAllowed(Refusal):
    """Training cannot start now; the message says why (training_refusal)."""

    # What the API answered before refusals had one base: a 400 "invalid" request.
    code = "invalid"
    status_code = 400


def training_start(
    *, project: Project, preset: str = TrainingRun.Preset.BALANCED, actor: User | None = None
) -> TrainingRun:
    """Record a queued run and hand it to a worker. Raises TrainingNotAllowed with the reason.
    `actor`: who started it (the activity feed names them; the run is charged to the owner)."""
    parameters = training_parameters(project=project, preset=preset)
    with transaction.atomic():
        # The lock makes "one active run per project" hold against double clicks.
        project = Project.objects.select_for_update().get(id=project.id)
        refusal = training_refusal(project=project, steps=parameters["steps"])
        if refusal:
            raise TrainingNotAllowed(refusal)
        backend = backend_for()
        cost, minutes = training_estimate(steps=parameters["steps"], simulated=backend.simulated)
        run = TrainingRun.objects.create(
            project=project,
            charged_to_id=project.owner_id,  # the owner now (the project row is locked): a transfer later keeps it
            preset=preset,
            backend=backend.name,
            estimated_cost=cost,
            estimated_minutes=minutes,
            **parameters,
        )
        project_services.project_mark_training(project_id=project.id)
        event_record(project_id=project.id, kind=ProjectEvent.Kind.TRAINING_STARTED, actor=actor, run=run.id)
        submit_training.delay_on_commit(run.id)
    return run


def training_cancel(*, run: TrainingRun, actor: User | None = None) -> TrainingRun:
    """Stop a run. A run the user canceled never publishes or emails. Raises ProviderError when the
    provider cannot be told (the run is left as it was). `actor`: who canceled it."""
    run.refresh_from_db()
    if not run.is_active:
        return run
    # Recorded first: a "canceled" webhook racing this call is then read as the user's cancel.
    TrainingRun.objects.filter(id=run.id, status__in=TrainingRun.ACTIVE).update(error_kind=failures.Kind.USER_CANCELED)
    if run.provider_training_id and run.status != TrainingRun.Status.PUBLISHING:
        # Outside any transaction: a network call.
        try:
            stopped = backend_for(run.backend).cancel(provider_id=run.provider_training_id)
        except ProviderError:
            TrainingRun.objects.filter(id=run.id, status__in=TrainingRun.ACTIVE).update(error_kind="")
            raise
        if stopped is not None and stopped.gpu_seconds is not None:
            TrainingRun.objects.filter(id=run.id).update(
                gpu_seconds=stopped.gpu_seconds,
                actual_cost=training_cost(stopped.gpu_seconds, simulated=run.simulated),
            )
    run_end(
        run_id=run.id,
        sources=TrainingRun.ACTIVE,
        status=TrainingRun.Status.CANCELED,
        error=failures.explain(failures.Kind.USER_CANCELED, subject="training"),
        error_kind=failures.Kind.USER_CANCELED,
        completed_at=timezone.now(),
        actor=actor,
    )
    run.refresh_from_db()
    return run


def training_cancel_at_provider(*, run_id: int) -> None:
    """Stop the provider's training of a run that has ended on our side (best effort), including
    one that a timed-out submission started without our knowing its id."""
    run = TrainingRun.objects.filter(id=run_id, status__in=TrainingRun.TERMINAL).first()
    if run is None:
        return
    backend = backend_for(run.backend)
    provider_id = run.provider_training_id
    if not provider_id and run.dataset_url:
        found = backend.find_submitted(dataset_url=run.dataset_url)
        provider_id = found.id if found else None
    if provider_id:
        try:
            backend.cancel(provider_id=provider_id)
        except PermanentProviderError as error:
            # It no longer exists there (or never will be stoppable): nothing left to do.
            logger.warning("training %s: the provider refused the cancel: %s", run_id, error)
