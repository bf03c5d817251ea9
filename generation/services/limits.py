"""Whether a user may start a generation now: a refusal with the reason, else nothing."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from accounts.models import User
from core.exceptions import Refusal
from generation.selectors import generation_refusal
from projects.access import Can, role_allows, role_of
from training.models import TrainingRun


class GenerationNotAllowed(Refusal):
    """A generation cannot start now; the message says why."""

    # As the API has always answered it: a 400 of a request that is not valid.
    code = "invalid"
    status_code = 400


def generation_ensure_model(*, user: User, training_run: TrainingRun | None) -> None:
    """Refuse a model the user may not generate with (None, the base model, they may): a
    non-member's is answered as a missing model, a member's whose role may not generate with 403."""
    if training_run is None:
        return
    role = role_of(user=user, project=training_run.project_id)
    if role is None or training_run.status != TrainingRun.Status.SUCCEEDED or not training_run.has_lora:
        raise GenerationNotAllowed(gettext("Pick one of your trained models."))
    if not role_allows(role, Can.GENERATE):
        raise PermissionDenied


def generation_ensure_allowed(*, user: User, prompt: str, num_outputs: int, base_model: bool) -> None:
    """Refuse, with the reason, what the user's limits do not allow now. Call it inside the
    transaction that records the job: it locks the user's row, so the concurrency and spend limits
    hold against parallel requests."""
    User.objects.select_for_update().filter(id=user.id).first()
    refusal = generation_refusal(user=user, prompt=prompt, num_outputs=num_outputs, base_model=base_model)
    if refusal:
        raise GenerationNotAllowed(refusal)
