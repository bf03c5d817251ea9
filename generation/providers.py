"""Which image provider (backend) runs a job: by the name a job records, or as configured for new jobs."""

from django.conf import settings
from django.utils.module_loading import import_string

from core.demo import DEMO_BACKEND
from generation.backends.base import GenerationBackend

BACKENDS = {
    DEMO_BACKEND: "generation.backends.demo.DemoGenerationBackend",
    "replicate": "generation.backends.replicate.ReplicateGenerationBackend",
    "huggingface": "generation.backends.huggingface.HuggingFaceGenerationBackend",
}


def backend_for(name: str | None = None, *, base_model: bool = False) -> GenerationBackend:
    """The backend of an existing job (by name), or the configured one for a new job."""
    if name:
        return import_string(BACKENDS[name])()
    return import_string(settings.GENERATION_BASE_BACKEND if base_model else settings.GENERATION_BACKEND)()


def new_jobs_simulated(*, base_model: bool = False) -> bool:
    """Whether a job started now runs on the demo simulator (and so costs nothing)."""
    return backend_for(base_model=base_model).simulated
