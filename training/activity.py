"""Links of the project activity feed to training runs (registered in TrainingConfig.ready())."""

from django.urls import reverse

from projects.models import Project
from training.models import TrainingRun


def run_links(project: Project, ids: set[int]) -> dict[int, str]:
    """The runs among these ids that still exist in the project: every member sees its runs."""
    alive = TrainingRun.objects.filter(project=project, id__in=ids).values_list("id", flat=True)
    return {run_id: reverse("training:run", kwargs={"run_id": run_id}) for run_id in alive}
