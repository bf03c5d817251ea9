from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="photo",
            name="trashed_at",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
    ]
