"""The API of a project's team: members, invitations, accepting them, transferring ownership.

Thin: access is asked of projects.access through the selectors and services (404 for a
non-member, 403 for a member whose role lacks MANAGE); refusals are answered by the API's
exception handler.
"""

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import IdField
from core.api.schema import ApiErrorSerializer
from projects import member_selectors, selectors, services
from projects.access import Can
from projects.api.serializers import ProjectDetailSerializer
from projects.models import INVITABLE_ROLE_CHOICES, Invitation, Membership


class MemberUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    display_name = serializers.CharField()


class MembershipSerializer(serializers.ModelSerializer):
    user = MemberUserSerializer()
    joined_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Membership
        fields = ["user", "role", "joined_at"]


class InvitationProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class InvitationSerializer(serializers.ModelSerializer):
    project = InvitationProjectSerializer()
    invited_by = serializers.SerializerMethodField()
    expired = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "project", "email", "role", "invited_by", "created_at", "expires_at", "expired", "last_sent_at"]

    def get_invited_by(self, invitation) -> str:
        return invitation.invited_by.get_short_name() if invitation.invited_by else ""

    def get_expired(self, invitation) -> bool:
        return invitation.expires_at <= timezone.now()


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=INVITABLE_ROLE_CHOICES)


class RoleChangeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=INVITABLE_ROLE_CHOICES)


class TransferSerializer(serializers.Serializer):
    user = IdField(help_text="The member who becomes the owner.")


class InvitationAnswerSerializer(serializers.Serializer):
    token = serializers.CharField(required=False, max_length=500, help_text="The token of the emailed link.")
    invitation = IdField(required=False, help_text="Or the id of an invitation to you (GET /invitations/).")

    def validate(self, data):
        if not data.get("token") and not data.get("invitation"):
            raise serializers.ValidationError({"token": gettext("Give the link's token or the invitation's id.")})
        return data


def _project(request, project_pk):
    return selectors.project_get_for_user(user=request.user, project_id=project_pk)


@extend_schema_view(get=extend_schema(operation_id="project_members_list", summary="A project's members"))
class MemberListView(generics.ListAPIView):
    serializer_class = MembershipSerializer

    def get_queryset(self) -> QuerySet:
        return member_selectors.member_list(
            user=self.request.user, project=_project(self.request, self.kwargs["project_pk"])
        )


class MemberDetailView(APIView):
    @extend_schema(
        operation_id="project_members_partial_update",
        request=RoleChangeSerializer,
        responses=MembershipSerializer,
        summary="Change a member's role (owner only; not the owner's own)",
    )
    def patch(self, request, project_pk: int, user_id: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_pk, capability=Can.MANAGE)
        data = RoleChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_change_role(
            actor=request.user, project=project, user_id=user_id, role=data.validated_data["role"]
        )
        return Response(MembershipSerializer(membership).data)

    @extend_schema(
        operation_id="project_members_destroy",
        responses={204: None},
        summary="Remove a member (owner only), or leave the project (your own id)",
    )
    def delete(self, request, project_pk: int, user_id: int):
        project = _project(request, project_pk)
        services.membership_remove(actor=request.user, project=project, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(operation_id="project_invitations_list", summary="A project's pending invitations (owner only)")
)
class ProjectInvitationListView(generics.ListAPIView):
    serializer_class = InvitationSerializer

    def get_queryset(self) -> QuerySet:
        project = _project(self.request, self.kwargs["project_pk"])
        return member_selectors.invitation_list_pending(user=self.request.user, project=project).select_related(
            "project"
        )

    @extend_schema(
        operation_id="project_invitations_create",
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer},
        summary="Invite an address as editor or viewer (owner only); the link is emailed",
    )
    def post(self, request, project_pk: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_pk, capability=Can.MANAGE)
        data = InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_create(actor=request.user, project=project, **data.validated_data)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class ProjectInvitationDetailView(APIView):
    @extend_schema(operation_id="project_invitations_destroy", responses={204: None}, summary="Revoke an invitation")
    def delete(self, request, project_pk: int, invitation_id: int):
        project = _project(request, project_pk)
        services.invitation_revoke(actor=request.user, invitation_id=invitation_id, project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectInvitationResendView(APIView):
    @extend_schema(
        operation_id="project_invitations_resend",
        request=None,
        responses=InvitationSerializer,
        summary="Email a fresh link (the previous one stops working); at most once a minute",
    )
    def post(self, request, project_pk: int, invitation_id: int):
        project = _project(request, project_pk)
        invitation = services.invitation_resend(actor=request.user, invitation_id=invitation_id, project=project)
        return Response(InvitationSerializer(invitation).data)


class ProjectTransferView(APIView):
    @extend_schema(
        operation_id="project_transfer",
        request=TransferSerializer,
        responses=ProjectDetailSerializer,
        summary="Make a member the owner (owner only); you stay as an editor",
    )
    def post(self, request, project_pk: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_pk, capability=Can.MANAGE)
        data = TransferSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.project_transfer_ownership(actor=request.user, project=project, user_id=data.validated_data["user"])
        return Response(ProjectDetailSerializer(_project(request, project_pk)).data)


@extend_schema_view(get=extend_schema(operation_id="invitations_list", summary="Pending invitations to you"))
class MyInvitationListView(generics.ListAPIView):
    serializer_class = InvitationSerializer

    def get_queryset(self) -> QuerySet:
        return member_selectors.invitation_list_for_user(user=self.request.user)


# Answered by a token or an id in the body, not the path: the schema's own 404 would not be listed.
INVITATION_ANSWER_ERRORS = {
    404: OpenApiResponse(ApiErrorSerializer, description="No such invitation, or its link is not valid."),
    410: OpenApiResponse(
        ApiErrorSerializer, description="The invitation expired, was used, revoked, declined or replaced by a new one."
    ),
}


class InvitationAcceptView(APIView):
    @extend_schema(
        operation_id="invitations_accept",
        request=InvitationAnswerSerializer,
        responses={200: MembershipSerializer, **INVITATION_ANSWER_ERRORS},
        summary="Accept an invitation to your verified address: by its link's token or its id",
    )
    def post(self, request):
        data = InvitationAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.invitation_accept(
            user=request.user,
            token=data.validated_data.get("token", ""),
            invitation_id=data.validated_data.get("invitation"),
        )
        return Response(MembershipSerializer(membership).data)


class InvitationDeclineView(APIView):
    @extend_schema(
        operation_id="invitations_decline",
        request=InvitationAnswerSerializer,
        responses={204: None, **INVITATION_ANSWER_ERRORS},
        summary="Decline an invitation to your address",
    )
    def post(self, request):
        data = InvitationAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.invitation_decline(
            user=request.user,
            token=data.validated_data.get("token", ""),
            invitation_id=data.validated_data.get("invitation"),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
