"""Links of the project activity feed to training runs (registered in TrainingConfig.ready())."""

from django.db.models import QuerySet
from django.urls import reverse

from projects.activity import Link
from projects.models import Project
from training.models import TrainingRun


def _alive_runs(project: Project, ids: set[int]) -> QuerySet:
    """The runs among these ids that still exist in the project: every member sees its runs."""
    return TrainingRun.objects.filter(project=project, id__in=ids)


RUN_LINK = Link(alive=_alive_runs, url=lambda project, run_id: reverse("training:run", kwargs={"run_id": run_id}))
