"""Replicate calls this when a training starts, logs and completes."""

import json
import logging

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.exceptions import ProviderError
from integrations.replicate import InvalidWebhook, verify_webhook
from training import services
from training.models import TrainingRun, WebhookDelivery

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def replicate_training_webhook(request, run_id: int):
    backend = services.backend_for("replicate")
    try:
        webhook_id = verify_webhook(headers=request.headers, body=request.body, secret=backend.webhook_secret())
    except InvalidWebhook as error:
        logger.warning("training webhook for run %s rejected: %s", run_id, error)
        return JsonResponse({"error": "invalid signature"}, status=401)
    except ProviderError:
        # Could not fetch the signing secret: ask Replicate to retry later.
        return JsonResponse({"error": "try again"}, status=503)
    try:
        payload = json.loads(request.body)
        training = backend.parse_webhook(payload=payload)
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "bad payload"}, status=400)
    run = TrainingRun.objects.filter(id=run_id, provider_training_id=training.id).first()
    if run is None:
        # Signed by Replicate, but not ours (or not recorded yet): polling will pick it up.
        logger.warning("training webhook for unknown run %s / training %s ignored", run_id, training.id)
        return HttpResponse(status=204)
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(webhook_id=webhook_id)
            services.training_apply_update(run_id=run.id, training=training)
    except IntegrityError:
        pass  # a re-delivery of a webhook we already applied
    return HttpResponse(status=204)
