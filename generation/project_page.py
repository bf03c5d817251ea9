"""The recent images of the project page (registered with projects.pages in GenerationConfig.ready())."""

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from generation import selectors
from projects.models import Project
from projects.pages import Section


def images_section_context(*, request: HttpRequest, project: Project, page: Mapping[str, Any]) -> dict[str, Any]:
    """The project's latest images; only a trained project has any (the training section runs first)."""
    images = selectors.recent_images_for_project(project=project) if page.get("trained_run") else []
    return {
        "recent_images": [
            {"image": image, "thumbnail_url": selectors.image_url(image=image, variant="thumbnail")} for image in images
        ]
    }


SECTION = Section(
    key="recent_images", template="generation/_project_section.html", context=images_section_context, order=20
)
