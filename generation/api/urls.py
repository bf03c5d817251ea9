from django.urls import path

from generation.api import views

urlpatterns = [
    path("generations/", views.GenerationListCreateView.as_view(), name="generation-list"),
    path("generations/<id:generation_id>/", views.GenerationDetailView.as_view(), name="generation-detail"),
    path("generations/<id:generation_id>/cancel/", views.GenerationCancelView.as_view(), name="generation-cancel"),
    path("images/", views.GeneratedImageListView.as_view(), name="image-list"),
    path("images/<id:image_id>/", views.GeneratedImageDetailView.as_view(), name="image-detail"),
]
