from django.urls import path

from projects.api import views
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
]
