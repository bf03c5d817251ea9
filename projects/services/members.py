"""A project's team: invitations by email, members' roles, leaving, and transferring ownership.

Who may do each is asked of projects.access (MANAGE for the owner's controls); each change writes
its ProjectEvent in the same transaction and tells the affected person's pages after commit
(core.live.publish_to_user). The invitation email is sent by a task after commit: it makes the
link then (a new nonce per send), so the link's secret is never stored.
"""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.emails import send_templated_email
from accounts.models import User, normalize_email
from core import live
from core.exceptions import Refusal
from projects import access
from projects.access import Can
from projects.events import event_record
from projects.models import Invitation, Membership, Project, ProjectEvent, Role

logger = logging.getLogger(__name__)

INVITATION_SALT = "projects.invitation"
# A resend at most this often per invitation: the recipient's mailbox is not ours to flood.
INVITATION_RESEND_INTERVAL = timedelta(minutes=1)
# What the affected person's open pages are told (core.live.publish_to_user).
LIVE_INVITATIONS = "invitations"
LIVE_MEMBERSHIPS = "memberships"


class MemberError(Refusal):
    """A team change we refuse, with a message for the user."""


class InvitationLinkError(Refusal):
    """An invitation link that cannot be used: `reason` is invalid, expired, used, declined,
    revoked or replaced. Its message never names the project (the holder may be anyone)."""

    status_code = 410

    def __init__(self, message: str, *, reason: str):
        super().__init__(message, code=f"invitation_{reason}", status_code=404 if reason == "invalid" else None)
        self.reason = reason


class WrongAccount(Refusal):
    """The signed-in account is not the invited address (or has not verified it)."""

    code = "invitation_wrong_account"
    status_code = 403


def _expiry() -> timedelta:
    return timedelta(days=settings.INVITATION_EXPIRY_DAYS)


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _after_commit_to_user(user_id: int | None, kind: str) -> None:
    if user_id is not None:
        transaction.on_commit(lambda: live.publish_to_user(user_id=user_id, kind=kind))


def _locked_project(project: Project | int) -> Project:
    """The project's row, locked: team changes of one project happen one at a time (member
    counts, the one owner)."""
    project_id = project if isinstance(project, int) else project.id
    return Project.objects.select_for_update().get(id=project_id)


def _locked_for_manager(project: Project | int, *, actor: User) -> Project:
    """The project's row, locked, and the actor's MANAGE asked again under the lock: a transfer
    that committed since the first check has made them an editor."""
    project = _locked_project(project)
    access.require(user=actor, project=project, capability=Can.MANAGE)
    return project


def _team_size(project: Project) -> int:
    """Members and pending (unexpired) invitations together: what PROJECT_MEMBERS_MAX bounds."""
    pending = Invitation.objects.filter(project=project, pending_key__isnull=False, expires_at__gt=timezone.now())
    return Membership.objects.filter(project=project).count() + pending.count()


def _members_max_message() -> str:
    return gettext(
        "A project can have at most %(count)d members, pending invitations included. "
        "Remove a member or revoke an invitation first."
    ) % {"count": settings.PROJECT_MEMBERS_MAX}


# Invitations
# ------------------------------------------------------------------------------


def invitation_create(*, actor: User, project: Project, email: str, role: str) -> Invitation:
    """Invite an address as an editor or viewer and email it the link (after commit).

    An expired pending invitation to the same address is renewed (new role, new link) rather than
    refused; an unexpired one is refused: resend it instead."""
    access.require(user=actor, project=project, capability=Can.MANAGE)
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise MemberError(gettext("Enter a valid email address."), field="email") from None
    if role not in Invitation.INVITABLE_ROLES:
        raise MemberError(
            gettext("Invite as an editor or a viewer; ownership can only be transferred to a member."), field="role"
        )
    if email == normalize_email(actor.email):
        raise MemberError(gettext("You are already in this project."), field="email")
    with transaction.atomic():
        project = _locked_for_manager(project, actor=actor)
        if Membership.objects.filter(project=project, user__email=email).exists():
            raise MemberError(
                gettext("%(email)s is already a member of this project.") % {"email": email}, field="email"
            )
        now = timezone.now()
        invitation = Invitation.objects.filter(pending_key=Invitation.key_for(project.id, email)).first()
        if invitation is not None and invitation.expires_at > now:
            raise MemberError(
                gettext("%(email)s is already invited: resend the invitation from the list instead.")
                % {"email": email},
                field="email",
            )
        # A renewed (expired) invitation counts again as well: _team_size leaves it out until then.
        if _team_size(project) >= settings.PROJECT_MEMBERS_MAX:
            raise MemberError(_members_max_message(), field="email")
        if invitation is None:
            try:
                with transaction.atomic():
                    invitation = Invitation.objects.create(
                        project=project,
                        email=email,
                        role=role,
                        invited_by=actor,
                        pending_key=Invitation.key_for(project.id, email),
                        expires_at=now + _expiry(),
                    )
            except IntegrityError:  # only with the project's lock bypassed; say what a user can do
                raise MemberError(gettext("%(email)s is already invited.") % {"email": email}, field="email") from None
        else:
            invitation.role, invitation.invited_by = role, actor
            invitation.save(update_fields=["role", "invited_by"])
        _queue_send(invitation, now=now)
        event_record(
            project_id=project.id,
            kind=ProjectEvent.Kind.MEMBER_INVITED,
            actor=actor,
            invitation=invitation.id,
            role=role,
        )
        _after_commit_to_user(User.objects.filter(email=email).values_list("id", flat=True).first(), LIVE_INVITATIONS)
    invitation.refresh_from_db()
    return invitation


def _queue_send(invitation: Invitation, *, now) -> None:
    """Ask for a new send: the old link stops working now (its nonce is forgotten), the expiry
    starts again, and the email task makes and sends the new link after commit."""
    from projects.tasks import send_invitation_email

    Invitation.objects.filter(id=invitation.id).update(
        send_count=F("send_count") + 1,
        nonce_hash="",
        last_sent_at=now,
        expires_at=now + _expiry(),
        language=translation.get_language() or "",
    )
    send_number = Invitation.objects.values_list("send_count", flat=True).get(id=invitation.id)
    send_invitation_email.delay_on_commit(invitation.id, send_number)


def _pending_for_manager(*, actor: User, invitation_id: int, project: Project | None = None) -> Invitation:
    """A pending invitation of a project the actor manages; 404 for anyone else's, a refusal
    when it is no longer pending."""
    candidates = Invitation.objects.filter(id=invitation_id)
    if project is not None:
        candidates = candidates.filter(project=project)
    invitation = candidates.first()
    if invitation is None:
        raise Http404
    access.require(user=actor, project=invitation.project_id, capability=Can.MANAGE)
    if not invitation.is_pending:
        raise MemberError(gettext("This invitation is no longer pending."))
    return invitation


def invitation_resend(*, actor: User, invitation_id: int, project: Project | None = None) -> Invitation:
    """Email a fresh link (the previous one stops working) and extend the expiry; at most once a
    minute per invitation."""
    with transaction.atomic():
        invitation = _pending_for_manager(actor=actor, invitation_id=invitation_id, project=project)
        invitation = Invitation.objects.select_for_update().get(id=invitation.id)
        now = timezone.now()
        if invitation.last_sent_at and invitation.last_sent_at > now - INVITATION_RESEND_INTERVAL:
            raise MemberError(
                gettext("This invitation was just sent. Please wait a minute before sending it again."),
                code="rate_limited",
                status_code=429,
            )
        _queue_send(invitation, now=now)
    invitation.refresh_from_db()
    return invitation


def invitation_revoke(*, actor: User, invitation_id: int, project: Project | None = None) -> Invitation:
    """Withdraw a pending invitation: its link says "revoked" from now on."""
    with transaction.atomic():
        invitation = _pending_for_manager(actor=actor, invitation_id=invitation_id, project=project)
        ended = Invitation.objects.filter(id=invitation.id, pending_key__isnull=False).update(
            revoked_at=timezone.now(), pending_key=None, nonce_hash=""
        )
        if ended:
            event_record(
                project_id=invitation.project_id,
                kind=ProjectEvent.Kind.INVITATION_REVOKED,
                actor=actor,
                invitation=invitation.id,
            )
            _after_commit_to_user(
                User.objects.filter(email=invitation.email).values_list("id", flat=True).first(), LIVE_INVITATIONS
            )
    invitation.refresh_from_db()
    return invitation


def invitation_make_token(*, invitation: Invitation, send_number: int) -> str | None:
    """A new link's token for send number `send_number` of the invitation: stores the new nonce's
    hash, so every earlier link of it stops working. None when a newer send has been asked for
    meanwhile: its own link is the one that must work, an older send never replaces it. Only the
    email task (and tests) call it."""
    nonce = secrets.token_urlsafe(24)
    stored = Invitation.objects.filter(id=invitation.id, send_count=send_number, pending_key__isnull=False).update(
        nonce_hash=_hash(nonce)
    )
    if not stored:
        return None
    invitation.nonce_hash = _hash(nonce)
    return signing.dumps({"i": invitation.id, "n": nonce}, salt=INVITATION_SALT)


def invitation_email_send(*, invitation_id: int, send_number: int) -> bool:
    """Send the email of send number `send_number`, once: True when it was sent now.

    The attempt claims the send first (a second delivery of the task finds it claimed and sends
    nothing; a newer resend supersedes it), then makes the link. A failure gives the claim back
    and raises, for the task to retry."""
    claimed = Invitation.objects.filter(
        id=invitation_id, send_count=send_number, emailed_count__lt=send_number, pending_key__isnull=False
    ).update(emailed_count=send_number)
    if not claimed:
        return False
    invitation = Invitation.objects.select_related("project", "invited_by").get(id=invitation_id)
    token = invitation_make_token(invitation=invitation, send_number=send_number)
    if token is None:  # superseded by a newer send (or ended) since the claim: that one goes out
        return False
    recipient = User.objects.filter(email=invitation.email, is_active=True).first()
    inviter = invitation.invited_by
    try:
        send_templated_email(
            to=invitation.email,
            template="invitation",
            # `user` decides the language (theirs for an account, else the inviter's at sending).
            context={
                "user": recipient,
                "inviter_name": inviter.get_short_name() if inviter else settings.SITE_NAME,
                "inviter_email": inviter.email if inviter else "",
                "project_name": invitation.project.name,
                "role_label": Role(invitation.role).label,
                "link": settings.SITE_URL + reverse("invitation", kwargs={"token": token}),
                "expires_at": invitation.expires_at,
            },
            language=invitation.language,
        )
    except Exception:
        Invitation.objects.filter(id=invitation_id, emailed_count=send_number).update(emailed_count=send_number - 1)
        raise
    return True


@dataclass(frozen=True)
class InvitationLink:
    """What a link names, once checked: its invitation, pending and unexpired."""

    invitation: Invitation
    token: str


def invitation_check_link(*, token: str) -> InvitationLink:
    """The pending invitation a link names, or InvitationLinkError saying why it cannot be used."""
    try:
        payload = signing.loads(token, salt=INVITATION_SALT, max_age=_expiry())
    except signing.SignatureExpired:
        raise InvitationLinkError(gettext("This invitation link has expired."), reason="expired") from None
    except signing.BadSignature:
        raise InvitationLinkError(gettext("This invitation link is not valid."), reason="invalid") from None
    invitation_id, nonce = (payload.get("i"), payload.get("n")) if isinstance(payload, dict) else (None, None)
    if not isinstance(invitation_id, int) or not isinstance(nonce, str):
        raise InvitationLinkError(gettext("This invitation link is not valid."), reason="invalid")
    invitation = Invitation.objects.select_related("project", "invited_by").filter(id=invitation_id).first()
    if invitation is None:
        raise InvitationLinkError(gettext("This invitation link is not valid."), reason="invalid")
    _check_usable(invitation, nonce=nonce)
    return InvitationLink(invitation=invitation, token=token)


def _link_nonce(token: str) -> str | None:
    """The nonce a link carries (its signature was checked already by invitation_check_link)."""
    try:
        payload = signing.loads(token, salt=INVITATION_SALT)
    except signing.BadSignature:
        return None
    nonce = payload.get("n") if isinstance(payload, dict) else None
    return nonce if isinstance(nonce, str) else None


def _check_usable(invitation: Invitation, *, nonce: str | None) -> None:
    if invitation.accepted_at is not None:
        raise InvitationLinkError(gettext("This invitation has already been used."), reason="used")
    if invitation.revoked_at is not None:
        raise InvitationLinkError(gettext("This invitation has been revoked."), reason="revoked")
    if invitation.declined_at is not None:
        raise InvitationLinkError(gettext("This invitation has been declined."), reason="declined")
    if nonce is not None and not (invitation.nonce_hash and hmac.compare_digest(invitation.nonce_hash, _hash(nonce))):
        raise InvitationLinkError(
            gettext("This invitation link was replaced by a newer one: use the link in the latest email."),
            reason="replaced",
        )
    if invitation.expires_at <= timezone.now():
        raise InvitationLinkError(gettext("This invitation has expired."), reason="expired")


def _invitation_for(*, user: User, token: str = "", invitation_id: int | None = None) -> tuple[Invitation, str]:
    """The invitation by its link, or by id among those to the user's address (the dashboard's)."""
    if token:
        link = invitation_check_link(token=token)
        invitation, nonce_hash = link.invitation, link.invitation.nonce_hash
    else:
        found = (
            Invitation.objects.select_related("project")
            .filter(id=invitation_id, email=normalize_email(user.email))
            .first()
            if invitation_id is not None
            else None
        )
        if found is None:  # not to this user: as if it did not exist
            raise Http404
        invitation = found
        _check_usable(invitation, nonce=None)
        nonce_hash = invitation.nonce_hash
    _check_account(invitation, user)
    return invitation, nonce_hash


def _check_account(invitation: Invitation, user: User) -> None:
    if normalize_email(user.email) != invitation.email:
        raise WrongAccount(
            gettext(
                "This invitation was sent to another email address. Sign in with that address to accept it, "
                "or ask for an invitation to %(email)s."
            )
            % {"email": user.email}
        )
    if not user.is_email_verified:
        raise WrongAccount(gettext("Verify your email address first, then accept the invitation."))


def invitation_accept(*, user: User, token: str = "", invitation_id: int | None = None) -> Membership:
    """Join the project with the invited role, by the link (`token`) or from the dashboard
    (`invitation_id`, an invitation to the user's verified address). Single use: the first accept
    ends the invitation, a second one is told it was used."""
    invitation, nonce_hash = _invitation_for(user=user, token=token, invitation_id=invitation_id)
    with transaction.atomic():
        project = _locked_project(invitation.project_id)
        existing = Membership.objects.filter(project=project, user=user).first()
        if existing is None and Membership.objects.filter(project=project).count() >= settings.PROJECT_MEMBERS_MAX:
            raise MemberError(_members_max_message())
        ended = Invitation.objects.filter(
            id=invitation.id, pending_key__isnull=False, nonce_hash=nonce_hash, expires_at__gt=timezone.now()
        ).update(accepted_at=timezone.now(), accepted_by=user, pending_key=None, nonce_hash="")
        if not ended:  # another request got there first, or it changed since it was checked
            invitation.refresh_from_db()
            # With the link's own nonce: a resend meanwhile made it "replaced", not "used".
            _check_usable(invitation, nonce=_link_nonce(token) if token else None)
            raise InvitationLinkError(gettext("This invitation has already been used."), reason="used")
        if existing is not None:
            return existing  # joined meanwhile by another invitation: keep that role
        membership = Membership.objects.create(project=project, user=user, role=invitation.role)
        event_record(
            project_id=project.id, kind=ProjectEvent.Kind.MEMBER_JOINED, actor=user, user=user.id, role=invitation.role
        )
        _after_commit_to_user(user.id, LIVE_MEMBERSHIPS)
    return membership


def invitation_decline(*, user: User, token: str = "", invitation_id: int | None = None) -> Invitation:
    """Say no to an invitation to the user's address: it ends, its link says "declined"."""
    invitation, nonce_hash = _invitation_for(user=user, token=token, invitation_id=invitation_id)
    with transaction.atomic():
        Invitation.objects.filter(id=invitation.id, pending_key__isnull=False, nonce_hash=nonce_hash).update(
            declined_at=timezone.now(), pending_key=None, nonce_hash=""
        )
        _after_commit_to_user(user.id, LIVE_INVITATIONS)
    invitation.refresh_from_db()
    return invitation


# Members
# ------------------------------------------------------------------------------


def _membership(project: Project, user_id: int) -> Membership:
    membership = Membership.objects.select_related("user").filter(project=project, user_id=user_id).first()
    if membership is None:
        raise MemberError(gettext("That person is not a member of this project."), status_code=404, code="not_found")
    return membership


def membership_change_role(*, actor: User, project: Project, user_id: int, role: str) -> Membership:
    """Make a member an editor or a viewer (the owner's role changes only by a transfer)."""
    access.require(user=actor, project=project, capability=Can.MANAGE)
    if role not in Invitation.INVITABLE_ROLES:
        raise MemberError(
            gettext("Choose editor or viewer; to make someone the owner, transfer ownership."), field="role"
        )
    with transaction.atomic():
        project = _locked_for_manager(project, actor=actor)
        membership = _membership(project, user_id)
        if membership.role == Role.OWNER:
            raise MemberError(gettext("The owner's role cannot be changed; transfer ownership instead."))
        if membership.role != role:
            membership.role = role
            membership.save(update_fields=["role", "updated_at"])
            event_record(
                project_id=project.id, kind=ProjectEvent.Kind.MEMBER_ROLE_CHANGED, actor=actor, user=user_id, role=role
            )
            _after_commit_to_user(user_id, LIVE_MEMBERSHIPS)
    return membership


def membership_remove(*, actor: User, project: Project, user_id: int) -> None:
    """Take a member out of the project (not the owner). Removing yourself is leaving."""
    if user_id == actor.id:
        membership_leave(user=actor, project=project)
        return
    access.require(user=actor, project=project, capability=Can.MANAGE)
    with transaction.atomic():
        project = _locked_for_manager(project, actor=actor)
        membership = _membership(project, user_id)
        if membership.role == Role.OWNER:
            raise MemberError(gettext("The owner cannot be removed from their project."))
        membership.delete()
        event_record(project_id=project.id, kind=ProjectEvent.Kind.MEMBER_REMOVED, actor=actor, user=user_id)
        _after_commit_to_user(user_id, LIVE_MEMBERSHIPS)


def membership_leave(*, user: User, project: Project) -> None:
    """Leave a project you are a member of (the owner transfers ownership first)."""
    access.require(user=user, project=project, capability=Can.VIEW)
    with transaction.atomic():
        project = _locked_project(project)
        membership = _membership(project, user.id)
        if membership.role == Role.OWNER:
            raise MemberError(gettext("The owner cannot leave their project: transfer ownership to a member first."))
        membership.delete()
        event_record(project_id=project.id, kind=ProjectEvent.Kind.MEMBER_LEFT, actor=user, user=user.id)
        _after_commit_to_user(user.id, LIVE_MEMBERSHIPS)


def project_transfer_ownership(*, actor: User, project: Project, user_id: int) -> Project:
    """Make an existing member the owner (Project.owner too: trainings are charged to them from
    now on); the previous owner stays as an editor. All in one transaction."""
    access.require(user=actor, project=project, capability=Can.MANAGE)
    with transaction.atomic():
        project = _locked_for_manager(project, actor=actor)
        if user_id == project.owner_id:
            raise MemberError(gettext("You already own this project."), field="user")
        membership = _membership(project, user_id)
        clash = Project.objects.filter(owner_id=user_id, trigger_word__iexact=project.trigger_word).exclude(
            id=project.id
        )
        if clash.exists():
            raise MemberError(
                gettext(
                    "%(name)s already uses the trigger word “%(word)s” in a project of their own: "
                    "change this project's trigger word first."
                )
                % {"name": membership.user.get_short_name(), "word": project.trigger_word},
                field="user",
            )
        previous_owner_id = project.owner_id
        Membership.objects.filter(project=project, user_id=previous_owner_id).update(
            role=Role.EDITOR, updated_at=timezone.now()
        )
        Membership.objects.filter(id=membership.id).update(role=Role.OWNER, updated_at=timezone.now())
        project.owner_id = user_id
        project.save(update_fields=["owner", "updated_at"])
        event_record(
            project_id=project.id,
            kind=ProjectEvent.Kind.OWNERSHIP_TRANSFERRED,
            actor=actor,
            user=user_id,
            previous=previous_owner_id,
        )
        _after_commit_to_user(user_id, LIVE_MEMBERSHIPS)
        _after_commit_to_user(previous_owner_id, LIVE_MEMBERSHIPS)
    return project
