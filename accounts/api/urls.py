from django.urls import path

from accounts.api import views

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("tokens/", views.ApiTokenListCreateView.as_view(), name="token-list"),
    path("tokens/<id:token_id>/", views.ApiTokenDetailView.as_view(), name="token-detail"),
]
