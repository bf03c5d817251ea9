"""Which training backend a run trains on: the configured one for new runs, its own for the others."""

from django.conf import settings
from django.utils.module_loading import import_string

from core.demo import DEMO_BACKEND
from training.backends.base import TrainingBackend

BACKENDS = {
    DEMO_BACKEND: "training.backends.demo.DemoTrainingBackend",
    "replicate": "training.backends.replicate.ReplicateTrainingBackend",
}


def backend_for(name: str | None = None) -> TrainingBackend:
    """The backend of an existing run (by name), or the configured one for new runs."""
    backend: TrainingBackend = import_string(BACKENDS[name] if name else settings.TRAINING_BACKEND)()
    return backend
