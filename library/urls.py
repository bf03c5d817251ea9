from django.urls import path

from library import views

app_name = "library"

urlpatterns = [
    path("", views.library_home, name="home"),
    path("items/<id:item_id>/", views.item_detail, name="item"),
]


# Sharing
# ------------------------------------------------------------------------------

urlpatterns += [
    path("shares/", views.share_list, name="shares"),
    path("shares/new/", views.share_new, name="share_create"),
    path("shares/<id:share_id>/revoke/", views.share_revoke, name="share_revoke"),
]

# The public, no-login pages of share links: photoagent/urls.py mounts them at /s/ as "share".
share_public_urls = (
    [
        path("<str:token>/", views.shared_page, name="page"),
        path("<str:token>/items/<id:object_id>/", views.shared_item, name="item"),
        path("<str:token>/files/<id:object_id>/<str:variant>/", views.shared_file, name="file"),
    ],
    "share",
)
# Albums, suggested albums and duplicates
urlpatterns += [
    path("albums/", views.album_list, name="albums"),
    path("albums/<id:album_id>/", views.album_detail, name="album"),
    path("albums/<id:album_id>/rename/", views.album_rename, name="album_rename"),
    path("albums/<id:album_id>/cover/", views.album_cover, name="album_cover"),
    path("albums/<id:album_id>/remove/", views.album_remove, name="album_remove"),
    path("albums/<id:album_id>/delete/", views.album_delete, name="album_delete"),
    path("items/<id:item_id>/add-to-album/", views.item_add_to_album, name="item_add_to_album"),
    path("suggestions/", views.suggestion_list, name="suggestions"),
    path("suggestions/refresh/", views.suggestion_refresh, name="suggestions_refresh"),
    path("suggestions/<id:suggestion_id>/accept/", views.suggestion_accept, name="suggestion_accept"),
    path("suggestions/<id:suggestion_id>/dismiss/", views.suggestion_dismiss, name="suggestion_dismiss"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("duplicates/keep-best/", views.duplicates_keep_best, name="duplicates_keep_best"),
]

# Trash: photos and generated images, each under its own id
urlpatterns += [
    path("trash/", views.trash, name="trash"),
    path("trash/empty/", views.trash_empty, name="trash_empty"),
]
for _kind, _id in (("photos", "photo_id"), ("images", "image_id")):
    urlpatterns += [
        path(f"trash/{_kind}/<id:{_id}>/restore/", views.trash_restore, {"kind": _kind}, name=f"trash_restore_{_kind}"),
        path(f"trash/{_kind}/<id:{_id}>/delete/", views.trash_delete, {"kind": _kind}, name=f"trash_delete_{_kind}"),
    ]
