from django.urls import path

from generation import views, webhooks
from generation.api.views import GeneratedImageFileView

app_name = "generation"

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("new/", views.generation_new, name="new"),
    path("jobs/<id:generation_id>/", views.generation_detail, name="job"),
    path("jobs/<id:generation_id>/live/", views.generation_live, name="live"),
    path("jobs/<id:generation_id>/cancel/", views.generation_cancel, name="cancel"),
    path("images/<id:image_id>/", views.image_detail, name="image"),
    path("images/<id:image_id>/download/", views.image_download, name="download"),
    path("images/<id:image_id>/favourite/", views.image_favourite, name="favourite"),
    path("images/<id:image_id>/delete/", views.image_delete, name="delete"),
    path("images/<id:image_id>/<str:variant>/", GeneratedImageFileView.as_view(), name="image_file"),
    path("images/selection/", views.images_action, name="selection"),
    path("loras/<str:token>/lora.safetensors", views.lora_file, name="lora"),
    path("webhooks/replicate/<id:generation_id>/", webhooks.replicate_generation_webhook, name="webhook"),
]
