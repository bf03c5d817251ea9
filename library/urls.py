from django.urls import path

from library.views import albums, duplicates, items, sharing, trash

app_name = "library"

urlpatterns = [
    path("", items.library_home, name="home"),
    path("items/<id:item_id>/", items.item_detail, name="item"),
    path("items/<id:item_id>/inspire/", items.item_inspire, name="item_inspire"),
]


# Sharing
# ------------------------------------------------------------------------------

urlpatterns += [
    path("shares/", sharing.share_list, name="shares"),
    path("shares/new/", sharing.share_new, name="share_create"),
    path("shares/<id:share_id>/revoke/", sharing.share_revoke, name="share_revoke"),
]

# The public, no-login pages of share links: photoagent/urls.py mounts them at /s/ as "share".
share_public_urls = (
    [
        path("<str:token>/", sharing.shared_page, name="page"),
        path("<str:token>/items/<id:object_id>/", sharing.shared_item, name="item"),
        path("<str:token>/files/<id:object_id>/<str:variant>/", sharing.shared_file, name="file"),
    ],
    "share",
)
# Albums, suggested albums and duplicates
urlpatterns += [
    path("albums/", albums.album_list, name="albums"),
    path("albums/<id:album_id>/", albums.album_detail, name="album"),
    path("albums/<id:album_id>/rename/", albums.album_rename, name="album_rename"),
    path("albums/<id:album_id>/cover/", albums.album_cover, name="album_cover"),
    path("albums/<id:album_id>/remove/", albums.album_remove, name="album_remove"),
    path("albums/<id:album_id>/delete/", albums.album_delete, name="album_delete"),
    path("items/<id:item_id>/add-to-album/", albums.item_add_to_album, name="item_add_to_album"),
    path("suggestions/", albums.suggestion_list, name="suggestions"),
    path("suggestions/refresh/", albums.suggestion_refresh, name="suggestions_refresh"),
    path("suggestions/<id:suggestion_id>/accept/", albums.suggestion_accept, name="suggestion_accept"),
    path("suggestions/<id:suggestion_id>/dismiss/", albums.suggestion_dismiss, name="suggestion_dismiss"),
    path("duplicates/", duplicates.duplicates, name="duplicates"),
    path("duplicates/keep-best/", duplicates.duplicates_keep_best, name="duplicates_keep_best"),
]

# Trash: photos and generated images, each under its own id
urlpatterns += [
    path("trash/", trash.trash, name="trash"),
    path("trash/empty/", trash.trash_empty, name="trash_empty"),
]
for _kind, _id in (("photos", "photo_id"), ("images", "image_id")):
    urlpatterns += [
        path(f"trash/{_kind}/<id:{_id}>/restore/", trash.trash_restore, {"kind": _kind}, name=f"trash_restore_{_kind}"),
        path(f"trash/{_kind}/<id:{_id}>/delete/", trash.trash_delete, {"kind": _kind}, name=f"trash_delete_{_kind}"),
    ]
