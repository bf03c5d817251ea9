"""Sections that the apps above projects add to the project page (the training panel, recent images).

projects may not import those apps, so each registers its section here from its AppConfig.ready().
A section is a template included in the page's layout (after the readiness card, before the
uploader) and a callable that returns the context that template reads. The callables run in
`order`, each seeing the page's context so far (the photos, the readiness report and what earlier
sections added), so a section reuses what the page has read rather than querying it again.

Two keys of a section's context mean something to the page itself: `updating` (true keeps the live
page polling, or'ed with the page's own) and `trained_run` (the run whose model the readiness card
offers to generate with, or None).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.http import HttpRequest

from projects.models import Project


class SectionContext(Protocol):
    def __call__(self, *, request: HttpRequest, project: Project, page: Mapping[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Section:
    key: str
    template: str
    context: SectionContext
    order: int = 100


_sections: dict[str, Section] = {}


def page_section_register(*, section: Section) -> None:
    """Add a section to the project page; registering the same key again replaces it."""
    _sections[section.key] = section


def page_sections() -> list[Section]:
    return sorted(_sections.values(), key=lambda section: (section.order, section.key))


def page_sections_context(*, request: HttpRequest, project: Project, page: Mapping[str, Any]) -> dict[str, Any]:
    """Every section's context merged over `page`, with `sections`: the templates to include, in order."""
    context: dict[str, Any] = {"trained_run": None, **page}
    updating = bool(page.get("updating"))
    sections = page_sections()
    for section in sections:
        added = section.context(request=request, project=project, page=context)
        updating = updating or bool(added.pop("updating", False))
        context.update(added)
    context["updating"] = updating
    context["sections"] = [section.template for section in sections]
    return context
