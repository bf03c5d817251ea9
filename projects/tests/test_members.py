"""A project's team: invitations by email, roles, leaving and transferring ownership."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone, translation

from accounts.tests.factories import UserFactory
from projects import services
from projects.models import Invitation, Membership, Project, ProjectEvent, Role
from projects.services import members
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/invitations/(\S+)/")


def invite(run_on_commit, project, email, role="editor", actor=None):
    with run_on_commit():
        invitation = services.invitation_create(actor=actor or project.owner, project=project, email=email, role=role)
    return invitation


def token_in(message) -> str:
    return LINK.search(message.body).group(1)


def member(project, role=Role.EDITOR, **user):
    person = UserFactory(**user)
    Membership.objects.create(project=project, user=person, role=role)
    return person


def kinds(project) -> list[str]:
    return list(ProjectEvent.objects.filter(project=project).order_by("id").values_list("kind", flat=True))


# Inviting
# ------------------------------------------------------------------------------


def test_an_invitation_emails_a_link_naming_the_inviter_project_role_and_expiry(project, run_on_commit):
    invitation = invite(run_on_commit, project, "  Ana@Example.com ")
    assert invitation.email == "ana@example.com"
    (message,) = mail.outbox
    assert message.to == ["ana@example.com"]
    assert project.name in message.subject
    assert project.owner.get_short_name() in message.subject
    assert "Editor" in message.body
    assert str(invitation.expires_at.year) in message.body
    assert token_in(message)
    assert kinds(project) == [ProjectEvent.Kind.MEMBER_INVITED]
    assert invitation.expires_at - timezone.now() > timedelta(days=6)


def test_an_existing_user_gets_the_invitation_in_their_language(project, run_on_commit):
    UserFactory(email="ana@example.com", language="de")
    invite(run_on_commit, project, "ana@example.com")
    assert mail.outbox[0].extra_headers["Content-Language"] == "de"
    assert "Bearbeiter" in mail.outbox[0].body or "eingeladen" in mail.outbox[0].body


def test_an_unknown_address_gets_the_inviters_current_language(project, run_on_commit):
    with translation.override("es"):
        invite(run_on_commit, project, "new@example.com")
    assert mail.outbox[0].extra_headers["Content-Language"] == "es"


@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        ("not an email", "editor", "valid email"),
        ("x@example.com", "owner", "editor or a viewer"),
    ],
)
def test_bad_invitations_are_refused_with_a_clear_message(project, email, role, message):
    with pytest.raises(services.MemberError, match=message):
        services.invitation_create(actor=project.owner, project=project, email=email, role=role)
    assert not Invitation.objects.exists()


def test_inviting_yourself_a_member_or_someone_already_invited_is_refused(project, run_on_commit):
    with pytest.raises(services.MemberError, match="already in this project"):
        services.invitation_create(actor=project.owner, project=project, email=project.owner.email, role="editor")
    editor = member(project)
    with pytest.raises(services.MemberError, match="already a member"):
        services.invitation_create(actor=project.owner, project=project, email=editor.email, role="viewer")
    invite(run_on_commit, project, "ana@example.com")
    with pytest.raises(services.MemberError, match="resend"):
        services.invitation_create(actor=project.owner, project=project, email="ANA@example.com", role="viewer")
    assert Invitation.objects.count() == 1


def test_an_expired_invitation_to_the_same_address_is_renewed(project, run_on_commit):
    first = invite(run_on_commit, project, "ana@example.com")
    Invitation.objects.filter(id=first.id).update(expires_at=timezone.now() - timedelta(minutes=1))
    again = invite(run_on_commit, project, "ana@example.com", role="viewer")
    assert again.id == first.id
    assert again.role == "viewer"
    assert again.expires_at > timezone.now()
    assert len(mail.outbox) == 2


def test_the_team_size_counts_pending_invitations(project, run_on_commit, settings):
    settings.PROJECT_MEMBERS_MAX = 2
    invite(run_on_commit, project, "ana@example.com")
    with pytest.raises(services.MemberError, match="at most 2 members"):
        services.invitation_create(actor=project.owner, project=project, email="bo@example.com", role="editor")


def test_only_the_owner_invites(project):
    editor = member(project)
    with pytest.raises(PermissionDenied):
        services.invitation_create(actor=editor, project=project, email="x@example.com", role="viewer")
    with pytest.raises(Http404):
        services.invitation_create(actor=UserFactory(), project=project, email="x@example.com", role="viewer")


# Accepting the link
# ------------------------------------------------------------------------------


def test_the_link_is_accepted_once_then_says_already_used(project, run_on_commit):
    invite(run_on_commit, project, "ana@example.com")
    ana = UserFactory(email="ana@example.com")
    token = token_in(mail.outbox[0])
    membership = services.invitation_accept(user=ana, token=token)
    assert (membership.project, membership.role) == (project, Role.EDITOR)
    with pytest.raises(services.InvitationLinkError, match="already been used"):
        services.invitation_accept(user=ana, token=token)
    assert kinds(project)[-1] == ProjectEvent.Kind.MEMBER_JOINED
    assert Invitation.objects.get().accepted_by == ana


def test_an_expired_link_is_refused(project, run_on_commit):
    invitation = invite(run_on_commit, project, "ana@example.com")
    ana = UserFactory(email="ana@example.com")
    Invitation.objects.filter(id=invitation.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(services.InvitationLinkError, match="expired") as refused:
        services.invitation_accept(user=ana, token=token_in(mail.outbox[0]))
    assert refused.value.reason == "expired"
    assert not Membership.objects.filter(user=ana).exists()


def test_a_link_older_than_the_expiry_is_refused_by_its_signature(project, run_on_commit):
    invite(run_on_commit, project, "ana@example.com")
    ana = UserFactory(email="ana@example.com")
    token = token_in(mail.outbox[0])
    later = timezone.now() + timedelta(days=8)
    with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
        with pytest.raises(services.InvitationLinkError) as refused:
            services.invitation_accept(user=ana, token=token)
    assert refused.value.reason == "expired"


def test_a_revoked_link_says_revoked(project, run_on_commit):
    invitation = invite(run_on_commit, project, "ana@example.com")
    ana = UserFactory(email="ana@example.com")
    services.invitation_revoke(actor=project.owner, invitation_id=invitation.id)
    with pytest.raises(services.InvitationLinkError, match="revoked"):
        services.invitation_accept(user=ana, token=token_in(mail.outbox[0]))
    assert kinds(project)[-1] == ProjectEvent.Kind.INVITATION_REVOKED


def test_a_forged_link_is_not_valid(project):
    with pytest.raises(services.InvitationLinkError) as refused:
        services.invitation_check_link(token="eyJpIjoxfQ:1abc:forged")
    assert refused.value.reason == "invalid"


def test_a_resend_sends_a_fresh_link_and_the_old_one_stops_working(project, run_on_commit):
    invitation = invite(run_on_commit, project, "ana@example.com")
    ana = UserFactory(email="ana@example.com")
    Invitation.objects.filter(id=invitation.id).update(last_sent_at=timezone.now() - timedelta(minutes=2))
    with run_on_commit():
        services.invitation_resend(actor=project.owner, invitation_id=invitation.id)
    old, new = token_in(mail.outbox[0]), token_in(mail.outbox[1])
    assert old != new
    with pytest.raises(services.InvitationLinkError, match="replaced"):
        services.invitation_accept(user=ana, token=old)
    assert services.invitation_accept(user=ana, token=new).role == Role.EDITOR


def test_resending_is_limited_to_once_a_minute(project, run_on_commit):
    invitation = invite(run_on_commit, project, "ana@example.com")
    with pytest.raises(services.MemberError, match="wait a minute") as refused:
        services.invitation_resend(actor=project.owner, invitation_id=invitation.id)
    assert refused.value.status_code == 429
    assert len(mail.outbox) == 1


def test_the_email_task_sends_each_send_once(project, run_on_commit):
    invitation = invite(run_on_commit, project, "ana@example.com")
    assert members.invitation_email_send(invitation_id=invitation.id, send_number=1) is False
    assert len(mail.outbox) == 1


def test_a_failed_send_gives_the_send_back_for_the_retry(project, run_on_commit):
    with mock.patch.object(members, "send_templated_email", side_effect=RuntimeError("down")):
        with pytest.raises(RuntimeError):
            invite(run_on_commit, project, "ana@example.com")
    invitation = Invitation.objects.get()
    assert members.invitation_email_send(invitation_id=invitation.id, send_number=1) is True
    assert len(mail.outbox) == 1


def test_another_account_cannot_accept_and_is_told_why(project, run_on_commit):
    invite(run_on_commit, project, "ana@example.com")
    with pytest.raises(services.WrongAccount, match="another email address"):
        services.invitation_accept(user=UserFactory(email="bo@example.com"), token=token_in(mail.outbox[0]))
    unverified = UserFactory(email="ana@example.com", unverified=True)
    with pytest.raises(services.WrongAccount, match="Verify"):
        services.invitation_accept(user=unverified, token=token_in(mail.outbox[0]))
    assert Invitation.objects.get().is_pending


def test_declining_ends_the_invitation(project, run_on_commit):
    invitation = invite(run_on_commit, project, "ana@example.com")
    ana = UserFactory(email="ana@example.com")
    services.invitation_decline(user=ana, invitation_id=invitation.id)
    with pytest.raises(services.InvitationLinkError, match="declined"):
        services.invitation_accept(user=ana, token=token_in(mail.outbox[0]))


# Members
# ------------------------------------------------------------------------------


def test_the_owner_changes_roles_and_removes_members_but_not_themself(project):
    editor = member(project)
    services.membership_change_role(actor=project.owner, project=project, user_id=editor.id, role="viewer")
    assert Membership.objects.get(user=editor).role == Role.VIEWER
    with pytest.raises(services.MemberError, match="owner's role"):
        services.membership_change_role(actor=project.owner, project=project, user_id=project.owner_id, role="viewer")
    with pytest.raises(services.MemberError, match="cannot leave"):
        services.membership_remove(actor=project.owner, project=project, user_id=project.owner_id)
    services.membership_remove(actor=project.owner, project=project, user_id=editor.id)
    assert not Membership.objects.filter(user=editor).exists()
    assert kinds(project) == [ProjectEvent.Kind.MEMBER_ROLE_CHANGED, ProjectEvent.Kind.MEMBER_REMOVED]


def test_an_editor_cannot_manage_members(project):
    editor, viewer = member(project), member(project, role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        services.membership_change_role(actor=editor, project=project, user_id=viewer.id, role="editor")
    with pytest.raises(PermissionDenied):
        services.membership_remove(actor=editor, project=project, user_id=viewer.id)


def test_a_member_leaves(project):
    viewer = member(project, role=Role.VIEWER)
    services.membership_leave(user=viewer, project=project)
    assert not Membership.objects.filter(user=viewer).exists()
    assert kinds(project) == [ProjectEvent.Kind.MEMBER_LEFT]


def test_transferring_ownership_swaps_roles_and_project_owner(project):
    editor = member(project)
    old_owner = project.owner
    services.project_transfer_ownership(actor=old_owner, project=project, user_id=editor.id)
    project.refresh_from_db()
    assert project.owner == editor
    roles = dict(Membership.objects.filter(project=project).values_list("user_id", "role"))
    assert roles == {editor.id: Role.OWNER, old_owner.id: Role.EDITOR}
    assert kinds(project) == [ProjectEvent.Kind.OWNERSHIP_TRANSFERRED]
    with pytest.raises(PermissionDenied):
        services.project_transfer_ownership(actor=old_owner, project=project, user_id=old_owner.id)


def test_transfer_is_refused_when_the_new_owner_uses_the_trigger_word(project):
    editor = member(project)
    ProjectFactory(owner=editor, trigger_word=project.trigger_word.lower())
    with pytest.raises(services.MemberError, match="trigger word"):
        services.project_transfer_ownership(actor=project.owner, project=project, user_id=editor.id)
    assert Project.objects.get(id=project.id).owner_id != editor.id


def test_transfer_to_a_non_member_is_refused(project):
    with pytest.raises(services.MemberError, match="not a member"):
        services.project_transfer_ownership(actor=project.owner, project=project, user_id=UserFactory().id)


def test_the_affected_person_is_told_after_commit(project, run_on_commit):
    editor = member(project)
    with mock.patch("core.live.publish_to_user") as publish, run_on_commit():
        services.membership_change_role(actor=project.owner, project=project, user_id=editor.id, role="viewer")
    publish.assert_called_once_with(user_id=editor.id, kind="memberships")


# Races: what changed between the first check and the project's lock
# ------------------------------------------------------------------------------


def _demoted_meanwhile(project, new_owner):
    """_locked_project as if a transfer to `new_owner` committed just before the lock was taken."""
    original = members._locked_project

    def racing(target):
        Membership.objects.filter(project=project, role=Role.OWNER).update(role=Role.EDITOR)
        Membership.objects.filter(project=project, user=new_owner).update(role=Role.OWNER)
        Project.objects.filter(id=project.id).update(owner=new_owner)
        return original(target)

    return mock.patch.object(members, "_locked_project", side_effect=racing)


@pytest.mark.parametrize("change", ["invite", "role", "remove", "transfer"])
def test_an_owner_demoted_by_a_concurrent_transfer_is_refused_under_the_lock(project, change):
    owner, new_owner, other = project.owner, member(project), member(project)
    act = {
        "invite": lambda: services.invitation_create(
            actor=owner, project=project, email="x@example.com", role="viewer"
        ),
        "role": lambda: services.membership_change_role(actor=owner, project=project, user_id=other.id, role="viewer"),
        "remove": lambda: services.membership_remove(actor=owner, project=project, user_id=other.id),
        "transfer": lambda: services.project_transfer_ownership(actor=owner, project=project, user_id=other.id),
    }[change]
    with _demoted_meanwhile(project, new_owner), pytest.raises(PermissionDenied):
        act()
    # Nothing of the refused change was made (the simulated transfer was rolled back with it).
    assert Membership.objects.get(project=project, user=other).role == Role.EDITOR
    assert not Invitation.objects.exists()


def test_an_older_send_never_replaces_the_newest_link(project, run_on_commit):
    invitation = invite(run_on_commit, project, "ana@example.com")
    ana = UserFactory(email="ana@example.com")
    Invitation.objects.filter(id=invitation.id).update(last_sent_at=timezone.now() - timedelta(minutes=2))
    original = members.invitation_make_token

    def resent_meanwhile(**kwargs):
        # The owner resends between send 2's claim and its link: send 3 is the one that counts.
        Invitation.objects.filter(id=invitation.id).update(last_sent_at=timezone.now() - timedelta(minutes=2))
        with mock.patch.object(members, "invitation_make_token", original), run_on_commit():
            services.invitation_resend(actor=project.owner, invitation_id=invitation.id)
        return original(**kwargs)

    with mock.patch.object(members, "invitation_make_token", side_effect=resent_meanwhile), run_on_commit():
        services.invitation_resend(actor=project.owner, invitation_id=invitation.id)
    assert len(mail.outbox) == 2  # the first send's, and send 3's; send 2 stopped without emailing
    assert members.invitation_make_token(invitation=invitation, send_number=2) is None
    assert services.invitation_accept(user=ana, token=token_in(mail.outbox[1])).role == Role.EDITOR


def test_a_resend_between_the_check_and_the_accept_says_replaced(project, run_on_commit):
    invitation = invite(run_on_commit, project, "ana@example.com")
    ana = UserFactory(email="ana@example.com")
    original = members._locked_project

    def resent_meanwhile(target):
        Invitation.objects.filter(id=invitation.id).update(send_count=2, nonce_hash=members._hash("newer"))
        return original(target)

    with mock.patch.object(members, "_locked_project", side_effect=resent_meanwhile):
        with pytest.raises(services.InvitationLinkError, match="replaced") as refused:
            services.invitation_accept(user=ana, token=token_in(mail.outbox[0]))
    assert refused.value.reason == "replaced"
    assert not Membership.objects.filter(user=ana).exists()


def test_renewing_an_expired_invitation_counts_against_the_team_size(project, run_on_commit, settings):
    settings.PROJECT_MEMBERS_MAX = 2
    first = invite(run_on_commit, project, "ana@example.com")
    Invitation.objects.filter(id=first.id).update(expires_at=timezone.now() - timedelta(minutes=1))
    invite(run_on_commit, project, "bo@example.com")
    with pytest.raises(services.MemberError, match="at most 2 members"):
        services.invitation_create(actor=project.owner, project=project, email="ana@example.com", role="editor")
    assert Invitation.objects.get(id=first.id).expires_at < timezone.now()
