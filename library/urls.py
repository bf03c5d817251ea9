from django.urls import path

from library import views

app_name = "library"

urlpatterns = [
    path("", views.library_home, name="home"),
    path("items/<int:item_id>/", views.item_detail, name="item"),
]
