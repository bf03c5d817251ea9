from django.db import migrations


class Migration(migrations.Migration):
    """WebhookDelivery moved to the core app (core 0001): state only, its table stays."""

    dependencies = [
        ("training", "0003_deadlines_and_attempts"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="WebhookDelivery")],
            database_operations=[],
        ),
    ]
