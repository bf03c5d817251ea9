"""The project's activity page: everything the feed has, newest first, older pages by event id."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from projects import selectors
from projects.access import Can
from projects.activity import activity_entries

PAGE_SIZE = 30


def before_param(value) -> int | None:
    """The `before` cursor (an event id) from a query string; anything else means the newest."""
    try:
        before = int(value)
    except (TypeError, ValueError):
        return None
    return before if before > 0 else None


@login_required
@require_safe
def project_activity(request, project_id):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id, capability=Can.VIEW)
    before = before_param(request.GET.get("before"))
    events = selectors.project_activity(project=project, before_id=before, limit=PAGE_SIZE + 1)
    page, more = events[:PAGE_SIZE], len(events) > PAGE_SIZE
    return render(
        request,
        "projects/activity.html",
        {
            "project": project,
            "entries": activity_entries(project=project, events=page),
            "before": before,
            "older": page[-1].id if more else None,
        },
    )
