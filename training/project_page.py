"""The training panel of the project page (registered with projects.pages in TrainingConfig.ready())."""

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from projects.models import Project
from projects.pages import Section
from training import selectors
from training.models import TrainingRun


def training_section_context(*, request: HttpRequest, project: Project, page: Mapping[str, Any]) -> dict[str, Any]:
    """The last runs, the presets with their estimates, and why training cannot start (if so)."""
    runs = list(selectors.runs_for_project(project=project)[:5])
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
        "training_refusal": selectors.training_refusal(
            project=project, steps=presets[1]["steps"], photos=page["photos"]
        )
        if page["report"].ready
        else "",
        # The page keeps itself current while a run's progress moves.
        "updating": any(run.is_active for run in runs),
    }


SECTION = Section(key="training", template="training/_project_section.html", context=training_section_context, order=10)
