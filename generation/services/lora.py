"""Where a provider downloads a trained model's LoRA from."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from core.storage import storage_url
from generation.backends.base import LoraSource
from generation.selectors import LORA_URL_MAX_AGE, LORA_URL_SALT
from training.models import TrainingRun


def lora_source(*, run: TrainingRun) -> LoraSource:
    """Where a provider downloads this model's LoRA: the private Hub repo, or a short-lived URL."""
    if run.hf_repo_id and settings.HF_TOKEN:
        # Imported here: integrations.huggingface loads huggingface_hub, which only jobs of a model
        # published on the Hub need.
        from integrations.huggingface import lora_download_url

        return LoraSource(url=lora_download_url(repo_id=run.hf_repo_id), hf_token=settings.HF_TOKEN)
    if settings.AWS_STORAGE_BUCKET_NAME:
        return LoraSource(url=storage_url(run.lora_file.name, expire=LORA_URL_MAX_AGE))
    token = signing.dumps(run.id, salt=LORA_URL_SALT)
    # The path ends in .safetensors: that is how the model recognises a direct weights URL.
    return LoraSource(url=settings.SITE_URL + reverse("generation:lora", kwargs={"token": token}))
