"""Reads of a project's team: its members, its pending invitations, and the invitations to a user.

Access is asked of projects.access: every member sees the member list, only a manager (the owner)
the invitations.
"""

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from accounts.models import User, normalize_email
from projects import access
from projects.access import Can
from projects.models import Invitation, Membership, Project, Role


def member_list(*, user: User, project: Project | int) -> QuerySet[Membership]:
    """The project's members, the owner first, then by joining time (404 for a non-member)."""
    access.require(user=user, project=project, capability=Can.VIEW)
    project_id = project if isinstance(project, int) else project.id
    return (
        Membership.objects.filter(project_id=project_id)
        .select_related("user")
        .annotate(owner_first=Case(When(role=Role.OWNER, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("owner_first", "created_at", "id")
    )


def invitation_list_pending(*, user: User, project: Project | int) -> QuerySet[Invitation]:
    """The project's pending invitations, expired ones included (they can be resent): managers only."""
    access.require(user=user, project=project, capability=Can.MANAGE)
    project_id = project if isinstance(project, int) else project.id
    return Invitation.objects.filter(project_id=project_id, pending_key__isnull=False).select_related("invited_by")


def invitation_list_for_user(*, user: User) -> QuerySet[Invitation]:
    """Pending, unexpired invitations to the user's address, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Invitation.objects.none()
    return Invitation.objects.filter(
        email=normalize_email(user.email), pending_key__isnull=False, expires_at__gt=timezone.now()
    ).select_related("project", "invited_by")
