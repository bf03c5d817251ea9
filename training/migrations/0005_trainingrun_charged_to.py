import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def charge_past_runs_to_the_owner(apps, schema_editor):
    """Runs made before this column were charged to their project's owner: the best record of it is
    who owns the project now (transfers are new with memberships)."""
    TrainingRun = apps.get_model("training", "TrainingRun")
    Project = apps.get_model("projects", "Project")
    owner = Project.objects.filter(id=OuterRef("project_id")).values("owner_id")[:1]
    TrainingRun.objects.filter(charged_to__isnull=True).update(charged_to=Subquery(owner))


class Migration(migrations.Migration):
    """Whose limits a run counts against, fixed when it starts: a transfer of the project does
    not move past runs to the new owner."""

    dependencies = [
        ("training", "0004_webhookdelivery_to_core"),
        ("projects", "0003_memberships_and_events"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="trainingrun",
            name="charged_to",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="charged_training_runs",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(charge_past_runs_to_the_owner, migrations.RunPython.noop),
    ]
