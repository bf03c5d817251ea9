"""Replicate calls this when a training starts, logs and completes."""

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.webhooks import receive_replicate_webhook
from training import services
from training.models import TrainingRun
from training.providers import backend_for


@csrf_exempt
@require_POST
def replicate_training_webhook(request, run_id: int):
    def apply(training) -> bool:
        run = TrainingRun.objects.filter(id=run_id, provider_training_id=training.id).first()
        if run is None:
            return False
        services.training_apply_update(run_id=run.id, training=training)
        return True

    return receive_replicate_webhook(request, backend=backend_for("replicate"), apply=apply)
