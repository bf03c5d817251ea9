from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_account_email_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="browser_language",
            field=models.CharField(blank=True, choices=settings.LANGUAGES, default="", max_length=8),
        ),
    ]
