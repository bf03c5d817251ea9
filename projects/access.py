"""Who may do what in a project: the one place that decides, by membership and role.

Every selector, view, API view, admin page and file view asks here. A non-member learns nothing
(404, as for a missing id); a member whose role lacks the capability is refused (403,
`PermissionDenied`), so a viewer who forces a write control sees why it failed.
"""

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from projects.models import Membership, Project, Role


class Can(StrEnum):
    VIEW = "view"  # see photos, runs, models, images; download images
    EDIT = "edit"  # upload, describe, delete and restore photos; manage albums of the project's items
    GENERATE = "generate"  # start generations with the project's models (charged to whoever starts them)
    TRAIN = "train"  # start, cancel and retry trainings (charged to the owner)
    MANAGE = "manage"  # members, invitations, the project's settings, deleting the project


CAPABILITIES: dict[str, frozenset[Can]] = {
    Role.OWNER: frozenset(Can),
    Role.EDITOR: frozenset({Can.VIEW, Can.EDIT, Can.GENERATE}),
    Role.VIEWER: frozenset({Can.VIEW}),
}


def roles_that(capability: Can) -> list[str]:
    return [role for role, capabilities in CAPABILITIES.items() if capability in capabilities]


def role_allows(role: str | None, capability: Can) -> bool:
    return role is not None and capability in CAPABILITIES.get(role, frozenset())


def project_ids_for(*, user: User, capability: Can = Can.VIEW) -> QuerySet:
    """Ids of the projects where the user may do this, as a subquery (no join, no duplicate rows):
    `Model.objects.filter(project_id__in=project_ids_for(user=user))`."""
    if not getattr(user, "is_authenticated", False):
        return Membership.objects.none().values("project_id")
    return Membership.objects.filter(user=user, role__in=roles_that(capability)).values("project_id")


def role_of(*, user: User, project: Project | int) -> str | None:
    """The user's role in the project, or None when they are not a member."""
    if not getattr(user, "is_authenticated", False):
        return None
    project_id = project if isinstance(project, int) else project.id
    return Membership.objects.filter(user=user, project_id=project_id).values_list("role", flat=True).first()


def require(*, user: User, project: Project | int, capability: Can) -> str:
    """The user's role, when it allows this; else 404 for a non-member, 403 for a member."""
    role = role_of(user=user, project=project)
    if role is None:
        raise Http404
    if not role_allows(role, capability):
        raise PermissionDenied
    return role


def capabilities_of(role: str | None) -> dict[str, bool]:
    """What the role may do, as booleans by capability name, for templates: `{% if can.edit %}`."""
    return {capability.value: role_allows(role, capability) for capability in Can}
