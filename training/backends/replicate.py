"""Training on Replicate with ostris/flux-dev-lora-trainer, through the real replicate client."""

import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from core.exceptions import OutputUnusable, TransientProviderError
from core.storage import storage_url
from integrations import replicate as replicate_api
from integrations.replicate import json_object as _object
from training.backends.base import ProviderTraining, TrainingBackend

# How far back a crashed attempt's training can be: a run is submitted within hours of its dataset
# being packaged, and a dataset URL is not reused.
SUBMISSION_WINDOW = timedelta(days=2)


def _training(payload: dict) -> ProviderTraining:
    """A training as the API describes it; fields of the wrong type read as absent."""
    if not isinstance(payload.get("id"), str) or not payload["id"]:
        raise TransientProviderError("Replicate described a training without an id")
    output = _object(payload.get("output"))
    metrics = _object(payload.get("metrics"))
    gpu_seconds = metrics.get("predict_time")
    weights, version = output.get("weights"), output.get("version")
    return ProviderTraining(
        id=payload["id"],
        status=payload["status"] if isinstance(payload.get("status"), str) else "",
        logs=payload["logs"] if isinstance(payload.get("logs"), str) else "",
        error=str(payload.get("error") or ""),
        gpu_seconds=float(gpu_seconds) if isinstance(gpu_seconds, int | float) and gpu_seconds >= 0 else None,
        weights_url=weights if isinstance(weights, str) else "",
        version=version[:200] if isinstance(version, str) else "",
    )


class ReplicateTrainingBackend(TrainingBackend):
    name = "replicate"

    def dataset_url(self, *, run, dataset_name: str) -> str:
        if settings.AWS_STORAGE_BUCKET_NAME:
            # A presigned GET whose path ends in .zip, valid long enough for the trainer to start.
            return storage_url(dataset_name, expire=6 * 3600)
        # The client uploads from a path (a storage File is not a file object it accepts).
        with tempfile.TemporaryDirectory() as folder:
            local = Path(folder) / "dataset.zip"
            with default_storage.open(dataset_name, "rb") as archive, local.open("wb") as copy:
                shutil.copyfileobj(archive, copy, 1024 * 1024)
            try:
                # No `metadata`: the client sends it as a JSON string, which the spec (an object
                # field in a multipart body) rejects.
                uploaded = replicate_api.client().files.create(local, content_type="application/zip")
            except replicate_api.CALL_ERRORS as exc:
                raise replicate_api.mapped_error(exc) from exc
        return uploaded.urls["get"]

    def _ensure_destination(self, run) -> str:
        destination = f"{settings.REPLICATE_OWNER}/photoagent-{run.project.owner_id}-{run.project_id}"
        api = replicate_api.client()
        try:
            api.models.get(destination)
        except replicate_api.ReplicateError as exc:
            if exc.status != 404:
                raise replicate_api.mapped_error(exc) from exc
            try:
                api.models.create(
                    owner=settings.REPLICATE_OWNER,
                    name=destination.split("/", 1)[1],
                    visibility="private",
                    hardware="cpu",
                    description=f"PhotoAgent LoRA for project {run.project_id}",
                )
            except replicate_api.CALL_ERRORS as create_exc:
                raise replicate_api.mapped_error(create_exc) from create_exc
        except httpx.HTTPError as exc:
            raise replicate_api.mapped_error(exc) from exc
        return destination

    def submit(self, *, run, dataset_url: str, webhook_url: str | None) -> ProviderTraining:
        destination = self._ensure_destination(run)
        body: dict[str, object] = {
            "destination": destination,
            "input": {
                "input_images": dataset_url,
                "trigger_word": run.trigger_word,
                "steps": run.steps,
                "lora_rank": run.lora_rank,
                "learning_rate": run.learning_rate,
                "resolution": run.resolution,
                "autocaption": False,
            },
        }
        if webhook_url:
            body["webhook"] = webhook_url
            body["webhook_events_filter"] = ["start", "logs", "completed"]
        model, version = settings.REPLICATE_TRAINER_MODEL, settings.REPLICATE_TRAINER_VERSION
        payload = replicate_api.request_json("POST", f"/v1/models/{model}/versions/{version}/trainings", json=body)
        return _training(payload)

    def find_submitted(self, *, dataset_url: str, since: datetime | None = None) -> ProviderTraining | None:
        # Every recent training, page after page: one past the first page is still paid for.
        since = since or timezone.now() - SUBMISSION_WINDOW
        for payload in replicate_api.list_recent("/v1/trainings", since=since):
            sent = payload.get("input")
            if isinstance(sent, dict) and sent.get("input_images") == dataset_url:
                return _training(payload)
        return None

    def fetch(self, *, provider_id: str) -> ProviderTraining:
        return _training(replicate_api.request_json("GET", f"/v1/trainings/{provider_id}"))

    def cancel(self, *, provider_id: str) -> ProviderTraining:
        return _training(replicate_api.request_json("POST", f"/v1/trainings/{provider_id}/cancel"))

    def open_weights(self, *, training: ProviderTraining, max_bytes: int):
        if not training.weights_url:
            raise OutputUnusable("The training succeeded but returned no weights.")
        return replicate_api.open_output(training.weights_url, max_bytes=max_bytes)

    def parse_webhook(self, *, payload: dict) -> ProviderTraining:
        return _training(payload)

    def verify_webhook(self, *, headers, body: bytes) -> str:
        return replicate_api.verify_delivery(headers=headers, body=body)

    def webhook_secret(self) -> str:
        return replicate_api.webhook_secret()
