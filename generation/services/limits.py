"""Whether a user may start a generation now: a refusal with the reason, else nothing."""

from django.utils.translation import gettext

from accounts.models import User
from core.exceptions import Refusal
from generation.selectors import generation_refusal
from training.models import TrainingRun


class GenerationNotAllowed(Refusal):
    """A generation cannot start now; the message says why."""

    # As the API has always answered it: a 400 of a request that is not valid.
    code = "invalid"
    status_code = 400


def generation_ensure_model(*, user: User, training_run: TrainingRun | None) -> None:
    """Refuse a model that is not one of the user's trained models (None, the base model, is)."""
    if training_run is not None and (
        training_run.project.owner_id != user.id
        or training_run.status != TrainingRun.Status.SUCCEEDED
        or not training_run.has_lora
    ):
        raise GenerationNotAllowed(gettext("Pick one of your trained models."))


def generation_ensure_allowed(*, user: User, prompt: str, num_outputs: int, base_model: bool) -> None:
    """Refuse, with the reason, what the user's limits do not allow now. Call it inside the
    transaction that records the job: it locks the user's row, so the concurrency and spend limits
    hold against parallel requests."""
    User.objects.select_for_update().filter(id=user.id).first()
    refusal = generation_refusal(user=user, prompt=prompt, num_outputs=num_outputs, base_model=base_model)
    if refusal:
        raise GenerationNotAllowed(refusal)
