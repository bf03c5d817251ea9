"""Receiving Replicate webhooks: signature check, one application per delivery, quick answers."""

import json
import logging
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse

from core import ratelimit
from core.exceptions import InvalidWebhook, ProviderError
from core.models import WebhookDelivery

logger = logging.getLogger(__name__)


def receive_replicate_webhook(request, *, backend, apply: Callable[[object], bool]) -> HttpResponse:
    """Verify the delivery, parse it with the backend, and hand it to `apply` once.

    `apply(update)` returns False when the update is not for a job of ours (yet): polling picks
    those up. Re-deliveries (same `webhook-id`) are acknowledged and ignored. Checks that cost
    nothing come first: the rate per sending address, then the signature headers, and only then
    the signing secret, which may need a call to Replicate.
    """
    wait = ratelimit.hit(scope="provider_webhook", ident=ratelimit.by_ip(request))
    if wait:
        response = JsonResponse({"error": "too many requests"}, status=429)
        response["Retry-After"] = str(wait)
        return response
    try:
        webhook_id = backend.verify_webhook(headers=request.headers, body=request.body)
    except InvalidWebhook as error:
        logger.warning("webhook %s rejected: %s", request.path, error)
        return JsonResponse({"error": "invalid signature"}, status=401)
    except ProviderError:
        # Could not fetch the signing secret: ask Replicate to retry later.
        return JsonResponse({"error": "try again"}, status=503)
    try:
        payload = json.loads(request.body)
        if not isinstance(payload, dict):
            raise TypeError("not an object")
        update = backend.parse_webhook(payload=payload)
    except (ValueError, KeyError, TypeError, ProviderError):
        return JsonResponse({"error": "bad payload"}, status=400)
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(webhook_id=webhook_id)
            if not apply(update):
                logger.warning("webhook %s for an unknown job (%s) ignored", request.path, update.id)
                transaction.set_rollback(True)
    except IntegrityError:
        pass  # a re-delivery of a webhook we already applied
    return HttpResponse(status=204)
