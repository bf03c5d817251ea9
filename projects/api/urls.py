from django.urls import path

from projects.api import members, views
from projects.api.activity import ProjectActivityView

project_list = views.ProjectViewSet.as_view({"get": "list", "post": "create"})
project_detail = views.ProjectViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})
photo_list = views.PhotoViewSet.as_view({"get": "list", "post": "create"})
photo_detail = views.PhotoViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    path("projects/", project_list, name="project-list"),
    path("projects/<id:pk>/", project_detail, name="project-detail"),
    path("projects/<id:project_pk>/activity/", ProjectActivityView.as_view(), name="project-activity"),
    path("projects/<id:project_pk>/photos/", photo_list, name="photo-list"),
    path("projects/<id:project_pk>/photos/<id:pk>/", photo_detail, name="photo-detail"),
    path("projects/<id:project_pk>/members/", members.MemberListView.as_view(), name="member-list"),
    path("projects/<id:project_pk>/members/<id:user_id>/", members.MemberDetailView.as_view(), name="member-detail"),
    path(
        "projects/<id:project_pk>/invitations/",
        members.ProjectInvitationListView.as_view(),
        name="project-invitation-list",
    ),
    path(
        "projects/<id:project_pk>/invitations/<id:invitation_id>/",
        members.ProjectInvitationDetailView.as_view(),
        name="project-invitation-detail",
    ),
    path(
        "projects/<id:project_pk>/invitations/<id:invitation_id>/resend/",
        members.ProjectInvitationResendView.as_view(),
        name="project-invitation-resend",
    ),
    path("projects/<id:project_pk>/transfer/", members.ProjectTransferView.as_view(), name="project-transfer"),
    path("invitations/", members.MyInvitationListView.as_view(), name="invitation-list"),
    path("invitations/accept/", members.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("invitations/decline/", members.InvitationDeclineView.as_view(), name="invitation-decline"),
]
