from django.urls import path

from training import views, webhooks

app_name = "training"

urlpatterns = [
    path("projects/<id:project_id>/train/", views.training_start, name="start"),
    path("runs/<id:run_id>/", views.run_detail, name="run"),
    path("runs/<id:run_id>/live/", views.run_live, name="live"),
    path("runs/<id:run_id>/cancel/", views.run_cancel, name="cancel"),
    path("runs/<id:run_id>/retry/", views.run_retry, name="retry"),
    path("runs/<id:run_id>/lora/", views.lora_download, name="lora"),
    path("models/", views.model_list, name="models"),
    path("webhooks/replicate/<id:run_id>/", webhooks.replicate_training_webhook, name="webhook"),
]
