from django.urls import path

from training import views, webhooks

app_name = "training"

urlpatterns = [
    path("projects/<int:project_id>/train/", views.training_start, name="start"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/cancel/", views.run_cancel, name="cancel"),
    path("runs/<int:run_id>/retry/", views.run_retry, name="retry"),
    path("runs/<int:run_id>/lora/", views.lora_download, name="lora"),
    path("models/", views.model_list, name="models"),
    path("webhooks/replicate/<int:run_id>/", webhooks.replicate_training_webhook, name="webhook"),
]
