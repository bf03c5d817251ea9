from django.db import migrations, models


class Migration(migrations.Migration):
    """WebhookDelivery moves here from the training app: state only, its table is kept as it is."""

    initial = True

    dependencies = [
        ("training", "0003_deadlines_and_attempts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WebhookDelivery",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("webhook_id", models.CharField(max_length=100, unique=True)),
                        ("received_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={"db_table": "training_webhookdelivery"},
                ),
            ],
            database_operations=[],
        ),
    ]
