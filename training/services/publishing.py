"""Publishing a trained run's LoRA: fetched from the trainer's output, stored with us, then copied
to the Hugging Face Hub."""

import shutil
import tempfile
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.text import slugify

from core import failures
from core.exceptions import OutputUnusable, PermanentProviderError
from core.leases import lease_claim, lease_seconds, new_attempt, released_on_error
from integrations import huggingface
from training import weights
from training.models import TrainingRun
from training.providers import backend_for
from training.services.deadlines import give_up_step, training_expire
from training.services.states import fail_with, out_of_attempts, state_deadline, succeed, succeed_without_hub


def training_publish(*, run_id: int, attempt: str | None = None) -> None:
    """Fetch the LoRA from the trainer's output and store it (our storage, then the Hub). Safe to
    run twice and resumable: once the LoRA is in our storage a retry only does what is left. One
    attempt at a time holds the run's lease, so the Hub never gets two commits."""
    attempt = attempt or new_attempt()
    claimable = TrainingRun.objects.filter(id=run_id, status=TrainingRun.Status.PUBLISHING)
    if not lease_claim(claimable, holder=attempt, seconds=lease_seconds("training.publish_lora")):
        return
    with released_on_error(TrainingRun.objects.filter(id=run_id), holder=attempt):
        run = TrainingRun.objects.select_related("project").get(id=run_id)
        if timezone.now() > state_deadline(run):
            training_expire(run_id=run.id)
        elif out_of_attempts(run):
            give_up_step(run)
        else:
            _publish(run)


def _publish(run: TrainingRun) -> None:
    backend = backend_for(run.backend)
    if not run.lora_file:
        if not run.provider_training_id:
            raise ValueError(f"training {run.id} is publishing without a provider training")
        training = backend.fetch(provider_id=run.provider_training_id)
        try:
            with backend.open_weights(training=training, max_bytes=settings.TRAINING_MAX_WEIGHTS_BYTES) as stream:
                lora = weights.extract_lora(stream, max_bytes=settings.TRAINING_MAX_WEIGHTS_BYTES)
        except weights.WeightsError as error:
            fail_with(run.id, failures.Kind.BAD_OUTPUT, detail=str(error))
            return
        except OutputUnusable as error:
            fail_with(run.id, error.kind, detail=str(error))
            return
        with lora:
            _store_lora(run, lora)
        run.refresh_from_db()
    if settings.HF_TOKEN and not backend.simulated and not run.hf_commit:
        try:
            _publish_to_hub(run)
        except PermanentProviderError as error:
            # The LoRA is stored with us and usable; the Hub copy is an extra.
            succeed_without_hub(run, reason=str(error))
            return
    succeed(run=run)


def _publish_to_hub(run: TrainingRun) -> None:
    with default_storage.open(run.lora_file.name, "rb") as stored, tempfile.TemporaryFile() as lora:
        shutil.copyfileobj(stored, lora, 1024 * 1024)
        lora.seek(0)
        repo_id, commit = huggingface.publish_lora(
            repo_id=_hub_repo_id(run), lora=lora, model_card=_model_card(run), run_marker=f"run-{run.id}"
        )
    TrainingRun.objects.filter(id=run.id, hf_commit="").update(hf_repo_id=repo_id, hf_commit=commit)


def _store_lora(run: TrainingRun, lora: IO[bytes]) -> None:
    name = f"users/{run.project.owner_id}/training/run-{run.id}/lora.safetensors"
    default_storage.delete(name)  # a leftover of a crashed attempt
    stored = default_storage.save(name, File(lora, name="lora.safetensors"))
    if not TrainingRun.objects.filter(id=run.id, lora_file="").update(lora_file=stored):
        recorded = TrainingRun.objects.filter(id=run.id).values_list("lora_file", flat=True).first()
        if stored != recorded:
            default_storage.delete(stored)


def _hub_repo_id(run: TrainingRun) -> str:
    return f"{settings.HF_NAMESPACE}/{slugify(run.project.name)[:40] or 'project'}-{run.project_id}-run-{run.id}"


def _model_card(run: TrainingRun) -> str:
    return (
        "---\nbase_model: black-forest-labs/FLUX.1-dev\nlicense: other\ntags: [flux, lora, photoagent]\n---\n"
        f"# {run.project.name}\n\nA FLUX.1-dev LoRA trained by PhotoAgent.\n\n"
        f"- Trigger word: `{run.trigger_word}`\n- Steps: {run.steps}, LoRA rank: {run.lora_rank}, "
        f"learning rate: {run.learning_rate}, resolutions: {run.resolution}\n\n"
        f"Example prompt: `a photo of {run.trigger_word}, studio lighting`\n"
    )
