"""Which library items a user may see or change: by projects.access, in one place for the
selectors and for the search indexes (library/index.py, library/ranking.py), which hold every item
the user may see."""

from django.db.models import Q, QuerySet

from accounts.models import User
from library.models import LibraryItem
from projects.access import Can, project_ids_for


def items_scope(*, user: User, capability: Can = Can.VIEW, prefix: str = "") -> Q:
    """Which items (reached through `prefix`, e.g. "item__") the user may do this to: those of the
    projects where their role allows it, and their own that belong to no project."""
    return Q(**{f"{prefix}project_id__in": project_ids_for(user=user, capability=capability)}) | Q(
        **{f"{prefix}project__isnull": True, f"{prefix}user": user}
    )


def items_visible_to(user_id: int, capability: Can = Can.VIEW) -> QuerySet[LibraryItem]:
    """Every item the user may see (trash included), by the user's id: what the search indexes hold."""
    return LibraryItem.objects.filter(items_scope(user=User(id=user_id), capability=capability))


def scope_key(user_id: int) -> tuple[int, ...]:
    """The projects whose items the user sees, as a key: the search indexes compare it before each
    search, so joining or leaving a project rebuilds the user's index (one small query)."""
    ids = project_ids_for(user=User(id=user_id)).order_by("project_id").values_list("project_id", flat=True)
    return tuple(ids)
