from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("generation", "0003_deadlines_and_attempts"),
    ]

    operations = [
        migrations.AddField(
            model_name="generatedimage",
            name="trashed_at",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
    ]
