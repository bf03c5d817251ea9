"""What changes generation state: jobs (recording, status changes, giving up), running them at the
provider, storing their images, re-driving stuck jobs, likeness, and the user's images.

New code imports from the submodules. The names below keep `from generation import services;
services.foo()` working, the reads that moved to generation.selectors included.
"""

from generation.providers import BACKENDS, backend_for, new_jobs_simulated
from generation.selectors import (
    LORA_URL_MAX_AGE,
    LORA_URL_SALT,
    PROMPT_TEMPLATES,
    Limits,
    Usage,
    generation_estimate,
    generation_refusal,
    generation_usage,
    limits_for,
    lora_run_from_token,
    prompt_templates,
)
from generation.services.collection import ImageRejected, generation_collect, generation_render, image_store
from generation.services.images import (
    ImageGone,
    image_delete,
    image_restore,
    image_set_favourite,
    image_trash,
    images_delete,
    images_purge_trashed,
    images_trash,
)
from generation.services.jobs import (
    DEFAULTS,
    generation_cancel,
    generation_create,
    generation_fail,
    generation_give_up,
    generation_note_error,
    phase_deadline,
)
from generation.services.likeness import generation_score_likeness, likeness_from_distance
from generation.services.limits import GenerationNotAllowed
from generation.services.lora import lora_source
from generation.services.prompts import prompt_with_trigger
from generation.services.reconcile import generation_expire, generation_reconcile, generation_repoll
from generation.services.running import (
    MAX_OUTPUTS,
    generation_add_worker_time,
    generation_apply_update,
    generation_cancel_at_provider,
    generation_run,
    generation_sync,
)

__all__ = [
    "BACKENDS",
    "DEFAULTS",
    "LORA_URL_MAX_AGE",
    "LORA_URL_SALT",
    "MAX_OUTPUTS",
    "PROMPT_TEMPLATES",
    "GenerationNotAllowed",
    "ImageGone",
    "ImageRejected",
    "Limits",
    "Usage",
    "backend_for",
    "generation_add_worker_time",
    "generation_apply_update",
    "generation_cancel",
    "generation_cancel_at_provider",
    "generation_collect",
    "generation_create",
    "generation_estimate",
    "generation_expire",
    "generation_fail",
    "generation_give_up",
    "generation_note_error",
    "generation_reconcile",
    "generation_refusal",
    "generation_render",
    "generation_repoll",
    "generation_run",
    "generation_score_likeness",
    "generation_sync",
    "generation_usage",
    "image_delete",
    "image_restore",
    "image_set_favourite",
    "image_store",
    "image_trash",
    "images_delete",
    "images_purge_trashed",
    "images_trash",
    "likeness_from_distance",
    "limits_for",
    "lora_run_from_token",
    "lora_source",
    "new_jobs_simulated",
    "phase_deadline",
    "prompt_templates",
    "prompt_with_trigger",
]
