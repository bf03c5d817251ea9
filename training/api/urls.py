from django.urls import path

from training.api import views

urlpatterns = [
    path("projects/<id:project_pk>/trainings/", views.TrainingStartView.as_view(), name="training-start"),
    path("trainings/", views.TrainingRunListView.as_view(), name="training-list"),
    path("trainings/<id:run_id>/", views.TrainingRunDetailView.as_view(), name="training-detail"),
    path("trainings/<id:run_id>/cancel/", views.TrainingRunCancelView.as_view(), name="training-cancel"),
    path("models/", views.TrainedModelListView.as_view(), name="model-list"),
]
