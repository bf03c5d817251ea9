"""Replicate calls this when a generation's prediction completes."""

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.webhooks import receive_replicate_webhook
from generation.models import Generation
from generation.providers import backend_for
from generation.services.running import generation_apply_update


@csrf_exempt
@require_POST
def replicate_generation_webhook(request, generation_id: int):
    def apply(prediction) -> bool:
        generation = Generation.objects.filter(id=generation_id, provider_id=prediction.id).first()
        if generation is None:
            return False
        generation_apply_update(generation_id=generation.id, prediction=prediction)
        return True

    return receive_replicate_webhook(request, backend=backend_for("replicate"), apply=apply)
