"""Packaging a run's dataset and starting its training at the provider, once."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.exceptions import PermanentProviderError, ProviderError
from core.leases import FREE, lease_claim, lease_seconds, new_attempt, released_on_error
from projects.models import Photo
from training import dataset
from training.backends.base import ProviderTraining, TrainingBackend
from training.models import TrainingRun
from training.providers import backend_for
from training.services.deadlines import give_up_step
from training.services.states import fail_with, out_of_attempts, run_advance
from training.services.updates import training_apply_update

logger = logging.getLogger(__name__)


def _webhook_url(run: TrainingRun) -> str | None:
    # Providers only call public HTTPS addresses; a laptop has none, and polling covers it.
    if not settings.SITE_URL.startswith("https://"):
        return None
    return settings.SITE_URL + reverse("training:webhook", kwargs={"run_id": run.id})


def training_package_dataset(*, run: TrainingRun) -> str:
    """Store the zip of the run's photos the provider trains on; returns its storage name."""
    # The photos at packaging time: one moved to the trash before then is left out; the zip, once
    # stored, is what the run trains on, so trashing (or purging) a photo later changes nothing.
    photos = list(
        run.project.photos.filter(status=Photo.Status.READY, trashed_at__isnull=True).order_by("created_at", "id")
    )
    archive = dataset.build_zip(photos=photos, trigger_word=run.trigger_word)
    name = f"users/{run.project.owner_id}/training/run-{run.id}/dataset.zip"
    default_storage.delete(name)  # a leftover of a crashed attempt
    return default_storage.save(name, File(archive, name="dataset.zip"))


def training_submit(*, run_id: int, attempt: str | None = None) -> None:
    """Package the dataset and start the provider's training, once.

    The run moves to SUBMITTING before the provider is called; a re-run that finds it there
    first asks the provider whether the crashed attempt got through, so a training is never
    started twice. One attempt at a time holds the run's lease (see core.leases), and the step
    has a budget of attempts.
    """
    attempt = attempt or new_attempt()
    claimable = TrainingRun.objects.filter(
        id=run_id,
        status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.SUBMITTING],
        provider_training_id__isnull=True,
    )
    if not lease_claim(claimable, holder=attempt, seconds=lease_seconds("training.submit_training")):
        return
    with released_on_error(TrainingRun.objects.filter(id=run_id), holder=attempt):
        run = TrainingRun.objects.select_related("project").get(id=run_id)
        if out_of_attempts(run):
            give_up_step(run)
            return
        _submit(run)


def _submit(run: TrainingRun) -> None:
    backend = backend_for(run.backend)
    if not run.dataset:
        name = training_package_dataset(run=run)
        TrainingRun.objects.filter(id=run.id, dataset="").update(dataset=name)
        run.refresh_from_db()
    if not run.dataset_url:
        url = backend.dataset_url(run=run, dataset_name=run.dataset.name)
        TrainingRun.objects.filter(id=run.id, dataset_url="").update(dataset_url=url)
        run.refresh_from_db()
    dataset_url = run.dataset_url
    existing = backend.find_submitted(dataset_url=dataset_url) if run.status == TrainingRun.Status.SUBMITTING else None
    if existing is None:
        if run.status == TrainingRun.Status.QUEUED:
            # The step's attempt (counted by the lease claim) goes on with the run into SUBMITTING.
            marked = run_advance(
                run_id=run.id,
                sources=[TrainingRun.Status.QUEUED],
                to=TrainingRun.Status.SUBMITTING,
                attempts=run.attempts,
            )
            if not marked:
                return  # canceled meanwhile
        try:
            existing = backend.submit(run=run, dataset_url=dataset_url, webhook_url=_webhook_url(run))
        except PermanentProviderError as error:
            fail_with(run.id, error.kind, detail=str(error))
            return
    _record_training(run, existing)


def _record_training(run: TrainingRun, training: ProviderTraining) -> None:
    recorded = run_advance(
        run_id=run.id,
        sources=[TrainingRun.Status.QUEUED, TrainingRun.Status.SUBMITTING],
        to=TrainingRun.Status.STARTING,
        where=Q(provider_training_id__isnull=True),
        provider_training_id=training.id,
        submitted_at=timezone.now(),
        next_poll_at=timezone.now() + timedelta(seconds=settings.TRAINING_POLL_SECONDS),
        **FREE,
    )
    if not recorded:
        # The run was canceled or ended meanwhile (or another attempt recorded its training): stop ours.
        _cancel_quietly(backend_for(run.backend), training.id)
        return
    training_apply_update(run_id=run.id, training=training)


def _cancel_quietly(backend: TrainingBackend, provider_id: str) -> ProviderTraining | None:
    try:
        return backend.cancel(provider_id=provider_id)
    except ProviderError as error:
        # The run has ended on our side all the same; the provider ends an unfed training itself.
        logger.warning("training %s: cancel at the provider failed: %s", provider_id, error)
        return None
