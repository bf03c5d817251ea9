"""The members page, the invitation link's pages, sign-up through the link, and the API."""

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from projects.models import Invitation, Membership, Role
from projects.tests.test_members import invite, member, token_in

pytestmark = pytest.mark.django_db


def test_the_owner_sees_invite_form_and_pending_invitations_a_member_sees_leave(project, client, run_on_commit):
    invite(run_on_commit, project, "ana@example.com")
    editor = member(project)
    url = reverse("projects:members", args=[project.id])
    client.force_login(project.owner)
    page = client.get(url).content.decode()
    assert "Send invitation" in page
    assert "ana@example.com" in page
    assert "Transfer ownership" in page
    client.force_login(editor)
    page = client.get(url).content.decode()
    assert editor.email in page
    assert project.owner.email in page
    assert "Leave project" in page
    assert "Send invitation" not in page
    assert "ana@example.com" not in page
    assert client.post(url, {"email": "x@example.com", "role": "viewer"}).status_code == 403
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404


def test_inviting_from_the_page_sends_the_email_and_shows_refusals_beside_the_form(project, client, run_on_commit):
    client.force_login(project.owner)
    url = reverse("projects:members", args=[project.id])
    with run_on_commit():
        response = client.post(url, {"email": "ana@example.com", "role": "viewer"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    response = client.post(url, {"email": "ana@example.com", "role": "viewer"})
    assert response.status_code == 400
    assert "resend" in response.content.decode()


def test_a_signed_in_invitee_accepts_from_the_link_and_lands_in_the_project(project, client, run_on_commit):
    invite(run_on_commit, project, "ana@example.com")
    ana = UserFactory(email="ana@example.com")
    client.force_login(ana)
    url = reverse("invitation", args=[token_in(mail.outbox[0])])
    page = client.get(url)
    assert page.status_code == 200
    assert project.name in page.content.decode()
    response = client.post(url, {"answer": "accept"})
    assert response["Location"] == reverse("projects:detail", args=[project.id])
    assert Membership.objects.get(user=ana).role == Role.EDITOR
    client.get(response["Location"])  # shows (and uses up) the "you joined" message
    used = client.get(url)
    assert used.status_code == 410
    assert "already been used" in used.content.decode()
    assert project.name not in used.content.decode()


def test_another_account_is_told_without_the_project_name(project, client, run_on_commit):
    invite(run_on_commit, project, "ana@example.com")
    client.force_login(UserFactory())
    response = client.get(reverse("invitation", args=[token_in(mail.outbox[0])]))
    assert response.status_code == 403
    assert "another email address" in response.content.decode()
    assert project.name not in response.content.decode()


def test_a_forged_link_is_a_clear_404(client):
    response = client.get(reverse("invitation", args=["nonsense"]))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_signed_out_the_link_offers_log_in_or_sign_up_with_the_address(project, client, run_on_commit):
    invite(run_on_commit, project, "ana@example.com")
    response = client.get(reverse("invitation", args=[token_in(mail.outbox[0])]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "ana@example.com" in page
    assert "Sign up" in page


def test_a_new_user_signs_up_through_the_link_verified_and_lands_in_the_project(project, client, run_on_commit):
    invite(run_on_commit, project, "ana@example.com", role="viewer")
    token = token_in(mail.outbox[0])
    url = reverse("invitation_signup", args=[token])
    form = client.get(url)
    assert 'value="ana@example.com"' in form.content.decode()
    # The address is the invited one whatever the form sends.
    with run_on_commit():
        response = client.post(
            url,
            {
                "email": "other@example.com",
                "display_name": "Ana",
                "password1": DEFAULT_PASSWORD,
                "password2": DEFAULT_PASSWORD,
            },
        )
    assert response["Location"] == reverse("projects:detail", args=[project.id])
    ana = User.objects.get(email="ana@example.com")
    assert ana.is_email_verified
    assert Membership.objects.get(user=ana).role == Role.VIEWER
    assert not User.objects.filter(email="other@example.com").exists()
    assert len(mail.outbox) == 1  # no verification email: the link proved the address
    assert client.get(reverse("projects:detail", args=[project.id])).status_code == 200


def test_signing_up_through_the_link_with_an_existing_account_asks_to_log_in(project, client, run_on_commit):
    invite(run_on_commit, project, "ana@example.com")
    UserFactory(email="ana@example.com")
    url = reverse("invitation_signup", args=[token_in(mail.outbox[0])])
    response = client.post(url, {"display_name": "Ana", "password1": DEFAULT_PASSWORD, "password2": DEFAULT_PASSWORD})
    assert reverse("accounts:login") in response["Location"]
    assert Invitation.objects.get().is_pending


def test_the_dashboard_lists_invitations_to_you_with_accept(project, client, run_on_commit):
    invitation = invite(run_on_commit, project, "ana@example.com")
    ana = UserFactory(email="ana@example.com")
    client.force_login(ana)
    page = client.get(reverse("projects:list")).content.decode()
    assert "Invitations to you" in page
    assert project.name in page
    response = client.post(reverse("invitation_accept", args=[invitation.id]))
    assert response["Location"] == reverse("projects:detail", args=[project.id])
    assert "Invitations to you" not in client.get(reverse("projects:list")).content.decode()


def test_the_owner_manages_members_from_the_page(project, client):
    editor, viewer = member(project), member(project, role=Role.VIEWER)
    client.force_login(project.owner)
    client.post(reverse("projects:member_role", args=[project.id, viewer.id]), {"role": "editor"})
    assert Membership.objects.get(user=viewer).role == Role.EDITOR
    client.post(reverse("projects:member_remove", args=[project.id, viewer.id]))
    assert not Membership.objects.filter(user=viewer).exists()
    response = client.post(reverse("projects:member_remove", args=[project.id, project.owner_id]), follow=True)
    assert "transfer ownership" in response.content.decode()
    client.post(reverse("projects:member_transfer", args=[project.id]), {"user": editor.id})
    project.refresh_from_db()
    assert project.owner == editor


def test_a_member_leaves_from_the_page(project, client):
    viewer = member(project, role=Role.VIEWER)
    client.force_login(viewer)
    response = client.post(reverse("projects:member_leave", args=[project.id]))
    assert response["Location"] == reverse("dashboard")
    assert client.get(reverse("projects:members", args=[project.id])).status_code == 404


# API
# ------------------------------------------------------------------------------


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_api_invite_list_resend_revoke(project, run_on_commit):
    api = api_for(project.owner)
    base = f"/api/v1/projects/{project.id}/invitations/"
    with run_on_commit():
        created = api.post(base, {"email": "ana@example.com", "role": "editor"}, format="json")
    assert created.status_code == 201
    assert created.json()["email"] == "ana@example.com"
    assert len(mail.outbox) == 1
    invitation_id = created.json()["id"]
    assert [row["id"] for row in api.get(base).json()["results"]] == [invitation_id]
    resent = api.post(f"{base}{invitation_id}/resend/")
    assert resent.status_code == 429
    assert api.delete(f"{base}{invitation_id}/").status_code == 204
    assert api.get(base).json()["results"] == []
    refused = api.post(base, {"email": "ana@example.com", "role": "owner"}, format="json")
    assert refused.status_code == 400
    assert "role" in refused.json()["error"]["details"]


def test_api_members_need_membership_and_manage(project):
    editor = member(project)
    base = f"/api/v1/projects/{project.id}/members/"
    rows = api_for(editor).get(base).json()["results"]
    assert [row["role"] for row in rows] == ["owner", "editor"]
    assert api_for(editor).post(f"/api/v1/projects/{project.id}/invitations/", {}, format="json").status_code == 403
    assert api_for(editor).patch(f"{base}{project.owner_id}/", {"role": "viewer"}, format="json").status_code == 403
    assert api_for(UserFactory()).get(base).status_code == 404
    changed = api_for(project.owner).patch(f"{base}{editor.id}/", {"role": "viewer"}, format="json")
    assert changed.json()["role"] == "viewer"
    assert api_for(editor).delete(f"{base}{editor.id}/").status_code == 204  # leaving
    assert not Membership.objects.filter(user=editor).exists()


def test_api_accept_by_token_and_list_invitations_to_me(project, run_on_commit):
    invite(run_on_commit, project, "ana@example.com")
    ana = UserFactory(email="ana@example.com")
    api = api_for(ana)
    listed = api.get("/api/v1/invitations/").json()["results"]
    assert listed[0]["project"]["name"] == project.name
    accepted = api.post("/api/v1/invitations/accept/", {"token": token_in(mail.outbox[0])}, format="json")
    assert accepted.status_code == 200
    assert accepted.json()["role"] == "editor"
    again = api.post("/api/v1/invitations/accept/", {"token": token_in(mail.outbox[0])}, format="json")
    assert again.status_code == 410
    assert again.json()["error"]["code"] == "invitation_used"
    wrong = api_for(UserFactory()).post("/api/v1/invitations/accept/", {"token": "nonsense"}, format="json")
    assert wrong.status_code == 404


def test_api_transfer(project):
    editor = member(project)
    response = api_for(project.owner).post(
        f"/api/v1/projects/{project.id}/transfer/", {"user": editor.id}, format="json"
    )
    assert response.status_code == 200
    project.refresh_from_db()
    assert project.owner == editor
    again = api_for(project.owner).post(f"/api/v1/projects/{project.id}/transfer/", {"user": 10**9}, format="json")
    assert again.status_code == 404


def test_the_link_is_for_the_address_however_the_account_spells_it(project, client, run_on_commit):
    invite(run_on_commit, project, "ana@example.com")
    ana = UserFactory(email="ana@example.com")
    User.objects.filter(id=ana.id).update(email=" ana@example.com")  # as normalize_email strips it
    client.force_login(ana)
    page = client.get(reverse("invitation", args=[token_in(mail.outbox[0])]))
    assert page.status_code == 200
    assert project.name in page.content.decode()


def test_the_api_answer_without_token_or_id_is_told_in_the_callers_language():
    refused = api_for(UserFactory()).post("/api/v1/invitations/accept/", {}, format="json", HTTP_ACCEPT_LANGUAGE="de")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["token"] == ["Gib den Token des Links oder die ID der Einladung an."]
