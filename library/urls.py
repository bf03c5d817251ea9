from django.urls import path

from library import views

app_name = "library"

urlpatterns = [
    path("", views.library_home, name="home"),
    path("items/<int:item_id>/", views.item_detail, name="item"),
]


# Sharing
# ------------------------------------------------------------------------------

urlpatterns += [
    path("shares/", views.share_list, name="shares"),
    path("shares/new/", views.share_new, name="share_create"),
    path("shares/<int:share_id>/revoke/", views.share_revoke, name="share_revoke"),
]

# The public, no-login pages of share links: photoagent/urls.py mounts them at /s/ as "share".
share_public_urls = (
    [
        path("<str:token>/", views.shared_page, name="page"),
        path("<str:token>/files/<int:object_id>/<str:variant>/", views.shared_file, name="file"),
    ],
    "share",
)
