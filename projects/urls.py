from django.urls import path

from projects import views, views_activity, views_members
from projects.api.views import PhotoFileView

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_create, name="create"),
    path("<id:project_id>/", views.project_detail, name="detail"),
    path("<id:project_id>/live/", views.project_live, name="live"),
    path("<id:project_id>/activity/", views_activity.project_activity, name="activity"),
    path("<id:project_id>/edit/", views.project_edit, name="edit"),
    path("<id:project_id>/delete/", views.project_delete, name="delete"),
    path("<id:project_id>/photos/", views.photo_upload, name="photo_upload"),
    path("<id:project_id>/photos/<id:photo_id>/description/", views.photo_describe, name="photo_describe"),
    path("<id:project_id>/photos/<id:photo_id>/delete/", views.photo_delete, name="photo_delete"),
    path("<id:project_id>/members/", views_members.members, name="members"),
    path("<id:project_id>/members/leave/", views_members.member_leave, name="member_leave"),
    path("<id:project_id>/members/transfer/", views_members.member_transfer, name="member_transfer"),
    path("<id:project_id>/members/<id:user_id>/role/", views_members.member_role, name="member_role"),
    path("<id:project_id>/members/<id:user_id>/remove/", views_members.member_remove, name="member_remove"),
    path(
        "<id:project_id>/invitations/<id:invitation_id>/resend/",
        views_members.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "<id:project_id>/invitations/<id:invitation_id>/revoke/",
        views_members.invitation_revoke,
        name="invitation_revoke",
    ),
    path("files/<id:photo_id>/<str:variant>/", PhotoFileView.as_view(), name="photo_file"),
]
