"""The training panel of the project page (registered with projects.pages in TrainingConfig.ready())."""

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from projects.access import Can, role_allows
from projects.models import Project
from projects.pages import Section
from training import selectors
from training.models import TrainingRun


def training_section_context(*, request: HttpRequest, project: Project, page: Mapping[str, Any]) -> dict[str, Any]:
    """The last runs, the presets with their estimates, why training cannot start (if so), and, for
    who may train (the owner), the owner's limits it is charged to. Every member sees the runs."""
    runs = list(selectors.runs_for_project(project=project)[:5])
    can_train = role_allows(getattr(project, "role", None), Can.TRAIN)
    # Only for who sees the train button: the limits shown beside it, and read once for the refusal too.
    usage = selectors.training_usage(owner_id=project.owner_id) if can_train and page["report"].ready else None
    presets = [
        {"value": value, "label": label, **selectors.training_parameters(project=project, preset=value)}
        for value, label in TrainingRun.Preset.choices
    ]
    simulated = selectors.new_runs_simulated()
    for preset in presets:
        preset["cost"], preset["minutes"] = selectors.training_estimate(steps=preset["steps"], simulated=simulated)
    return {
        "runs": runs,
        "presets": presets,
        "trained_run": next((run for run in runs if run.status == TrainingRun.Status.SUCCEEDED), None),
        "can_train": can_train,
        "training_usage": usage,
        "training_refusal": selectors.training_refusal(
            project=project, steps=presets[1]["steps"], photos=page["photos"], usage=usage
        )
        if usage is not None
        else "",
        # The page keeps itself current while a run's progress moves.
        "updating": any(run.is_active for run in runs),
    }


SECTION = Section(key="training", template="training/_project_section.html", context=training_section_context, order=10)
