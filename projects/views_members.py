"""The members page of a project and the invitation link's pages.

Access is decided by projects.access through the selectors and services: a non-member gets 404,
a member without MANAGE 403 on the owner's controls. Refusals (core.exceptions.Refusal) come back
to the members page as messages (core.middleware.RefusalMessageMiddleware).
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services as account_services
from accounts.forms import SignupForm
from accounts.models import normalize_email
from core.middleware import refusals_redirect_to
from core.ratelimit import rate_limit
from projects import access, member_selectors, selectors, services
from projects.access import Can
from projects.models import Invitation, Role

# The signed-out visitor's link, carried through log-in or sign-up (accounts.views.signup).
INVITATION_SESSION_KEY = "projects.invitation_token"


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    role = forms.ChoiceField(
        label=_("Role"), choices=[(role.value, role.label) for role in Invitation.INVITABLE_ROLES], initial=Role.EDITOR
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=[(role.value, role.label) for role in Invitation.INVITABLE_ROLES])


class TransferForm(forms.Form):
    user = forms.IntegerField(min_value=1)


def _back(project_id: int):
    return redirect("projects:members", project_id=project_id)


@login_required
@require_http_methods(["GET", "POST"])
def members(request, project_id):
    """Everyone in the project sees who is in it; the owner also invites, and manages the rest."""
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    role = access.role_of(user=request.user, project=project)
    manages = access.role_allows(role, Can.MANAGE)
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        access.require(user=request.user, project=project, capability=Can.MANAGE)
        if form.is_valid():
            try:
                invitation = services.invitation_create(actor=request.user, project=project, **form.cleaned_data)
            except services.MemberError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, gettext("Invitation sent to %(email)s.") % {"email": invitation.email})
                return _back(project.id)
    memberships = list(member_selectors.member_list(user=request.user, project=project))
    context = {
        "project": project,
        "role": role,
        "manages": manages,
        "memberships": memberships,
        "form": form,
        "invitations": list(member_selectors.invitation_list_pending(user=request.user, project=project))
        if manages
        else [],
        "role_choices": Invitation.INVITABLE_ROLES,
        "members_max": settings.PROJECT_MEMBERS_MAX,
    }
    return render(request, "projects/members.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
@refusals_redirect_to("projects:members", "project_id")
def invitation_resend(request, project_id, invitation_id):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    invitation = services.invitation_resend(actor=request.user, invitation_id=invitation_id, project=project)
    messages.success(request, gettext("A new invitation link was sent to %(email)s.") % {"email": invitation.email})
    return _back(project.id)


@login_required
@require_POST
@refusals_redirect_to("projects:members", "project_id")
def invitation_revoke(request, project_id, invitation_id):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    invitation = services.invitation_revoke(actor=request.user, invitation_id=invitation_id, project=project)
    messages.success(request, gettext("The invitation to %(email)s was revoked.") % {"email": invitation.email})
    return _back(project.id)


@login_required
@require_POST
@refusals_redirect_to("projects:members", "project_id")
def member_role(request, project_id, user_id):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    form = RoleForm(request.POST)
    role = form.cleaned_data["role"] if form.is_valid() else ""
    membership = services.membership_change_role(actor=request.user, project=project, user_id=user_id, role=role)
    messages.success(
        request,
        gettext("%(name)s is now %(role)s.")
        % {"name": membership.user.get_short_name(), "role": Role(membership.role).label},
    )
    return _back(project.id)


@login_required
@require_POST
@refusals_redirect_to("projects:members", "project_id")
def member_remove(request, project_id, user_id):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    if user_id == request.user.id:
        return member_leave(request, project_id=project_id)
    services.membership_remove(actor=request.user, project=project, user_id=user_id)
    messages.success(request, gettext("The member was removed from the project."))
    return _back(project.id)


@login_required
@require_POST
@refusals_redirect_to("projects:members", "project_id")
def member_leave(request, project_id):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    services.membership_leave(user=request.user, project=project)
    messages.success(request, gettext("You left “%(name)s”.") % {"name": project.name})
    return redirect("dashboard")


@login_required
@require_POST
@refusals_redirect_to("projects:members", "project_id")
def member_transfer(request, project_id):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    form = TransferForm(request.POST)
    user_id = form.cleaned_data["user"] if form.is_valid() else 0
    project = services.project_transfer_ownership(actor=request.user, project=project, user_id=user_id)
    messages.success(
        request,
        gettext("%(name)s now owns “%(project)s”; you stay in it as an editor.")
        % {"name": project.owner.get_short_name(), "project": project.name},
    )
    return _back(project.id)


# The invitation link and the dashboard's answers
# ------------------------------------------------------------------------------


# The page holds a secret link: no browser or proxy may keep a copy.
@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """The emailed link. Signed in with the invited address: accept or decline. Signed out: log
    in or sign up with the address filled in. Another account: told so, without the project's
    name. A used, revoked, expired or replaced link: told which, without the project's name."""
    try:
        link = services.invitation_check_link(token=token)
    except services.InvitationLinkError as error:
        status = 404 if error.reason == "invalid" else 410
        return render(request, "projects/members_invitation_invalid.html", {"error": error}, status=status)
    invitation = link.invitation
    if not request.user.is_authenticated:
        request.session[INVITATION_SESSION_KEY] = token
        login = reverse("accounts:login") + "?" + urlencode({"next": request.path})
        signup = reverse("invitation_signup", kwargs={"token": token})
        return render(
            request,
            "projects/members_invitation_signed_out.html",
            {"invitation": invitation, "login_url": login, "signup_url": signup},
        )
    if normalize_email(request.user.email) != invitation.email:  # as the service compares them
        return render(request, "projects/members_invitation_wrong_account.html", {"invitation": invitation}, status=403)
    if request.method == "POST":
        request.session.pop(INVITATION_SESSION_KEY, None)
        return _answer(request, token=token, accept=request.POST.get("answer") != "decline")
    return render(request, "projects/members_invitation.html", {"invitation": invitation, "token": token})


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limit("signup")
def invitation_signup(request, token):
    """Sign up through the link: the account is the invited address, verified by the link itself
    (it was emailed there), and lands in the project as a member."""
    try:
        link = services.invitation_check_link(token=token)
    except services.InvitationLinkError as error:
        status = 404 if error.reason == "invalid" else 410
        return render(request, "projects/members_invitation_invalid.html", {"error": error}, status=status)
    if request.user.is_authenticated:
        return redirect("invitation", token=token)
    invitation = link.invitation
    form = SignupForm(request.POST or None, initial={"email": invitation.email})
    form.fields["email"].disabled = True  # the invited address, and only it
    if request.method == "POST" and form.is_valid():
        user = account_services.user_signup(
            email=invitation.email,
            display_name=form.cleaned_data["display_name"],
            password=form.cleaned_data["password1"],
            language=request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""),
            browser_language=translation.get_language(),
            email_verified=True,
        )
        if user is None:  # the address has an account: its owner gets a notice, and logs in here
            messages.info(request, gettext("This address already has an account: log in to accept the invitation."))
            return redirect(reverse("accounts:login") + "?" + urlencode({"next": reverse("invitation", args=[token])}))
        auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return _answer(request, token=token, accept=True)
    return render(request, "projects/members_invitation_signup.html", {"form": form, "invitation": invitation})


def _answer(request, *, token: str = "", invitation_id: int | None = None, accept: bool):
    if accept:
        membership = services.invitation_accept(user=request.user, token=token, invitation_id=invitation_id)
        messages.success(
            request,
            gettext("You joined “%(name)s” as %(role)s.")
            % {"name": membership.project.name, "role": Role(membership.role).label},
        )
        return redirect("projects:detail", project_id=membership.project_id)
    services.invitation_decline(user=request.user, token=token, invitation_id=invitation_id)
    messages.success(request, gettext("You declined the invitation."))
    return redirect("dashboard")


@login_required
@require_POST
@refusals_redirect_to("dashboard")
def invitation_accept(request, invitation_id):
    return _answer(request, invitation_id=invitation_id, accept=True)


@login_required
@require_POST
@refusals_redirect_to("dashboard")
def invitation_decline(request, invitation_id):
    return _answer(request, invitation_id=invitation_id, accept=False)
