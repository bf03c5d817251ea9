from django.db import models


class WebhookDelivery(models.Model):
    """A provider webhook we have processed, by its `webhook-id`: re-deliveries are ignored."""

    webhook_id = models.CharField(max_length=100, unique=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Created by the training app, which held the model before core did: the rows stay put.
        db_table = "training_webhookdelivery"
