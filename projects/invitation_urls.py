"""/invitations/: the emailed link (public: it carries its own signed token) and the dashboard's answers."""

from django.urls import path

from projects import views_members

urlpatterns = [
    path("<id:invitation_id>/accept/", views_members.invitation_accept, name="invitation_accept"),
    path("<id:invitation_id>/decline/", views_members.invitation_decline, name="invitation_decline"),
    path("<str:token>/", views_members.invitation, name="invitation"),
    path("<str:token>/signup/", views_members.invitation_signup, name="invitation_signup"),
]
