from django.urls import path

from library.api.views import albums, items, sharing, trash

urlpatterns = [
    path("library/search/", items.LibrarySearchView.as_view(), name="library-search"),
    path("library/items/<id:item_id>/", items.LibraryItemDetailView.as_view(), name="library-item"),
    path("library/items/<id:item_id>/similar/", items.LibrarySimilarView.as_view(), name="library-similar"),
]

# Sharing
urlpatterns += [
    path("library/shares/", sharing.ShareListCreateView.as_view(), name="library-share-list"),
    path("library/shares/<id:share_id>/", sharing.ShareDetailView.as_view(), name="library-share-detail"),
    path("library/shares/<id:share_id>/revoke/", sharing.ShareRevokeView.as_view(), name="library-share-revoke"),
]

# Albums and suggested albums
urlpatterns += [
    path("library/albums/", albums.AlbumListCreateView.as_view(), name="library-albums"),
    path("library/albums/<id:album_id>/", albums.AlbumDetailView.as_view(), name="library-album"),
    path("library/albums/<id:album_id>/items/", albums.AlbumItemsView.as_view(), name="library-album-items"),
    path(
        "library/albums/<id:album_id>/items/remove/",
        albums.AlbumItemsRemoveView.as_view(),
        name="library-album-items-remove",
    ),
    path("library/album-suggestions/", albums.AlbumSuggestionListView.as_view(), name="library-album-suggestions"),
    path(
        "library/album-suggestions/refresh/",
        albums.AlbumSuggestionRefreshView.as_view(),
        name="library-album-suggestions-refresh",
    ),
    path(
        "library/album-suggestions/<id:suggestion_id>/accept/",
        albums.AlbumSuggestionAcceptView.as_view(),
        name="library-album-suggestion-accept",
    ),
    path(
        "library/album-suggestions/<id:suggestion_id>/dismiss/",
        albums.AlbumSuggestionDismissView.as_view(),
        name="library-album-suggestion-dismiss",
    ),
]

# Trash: DELETE on a photo or generated image moves it here; DELETE here deletes it for good.
urlpatterns += [path("library/trash/", trash.TrashView.as_view(), name="library-trash")]
for _kind, _id in (("photos", "photo_id"), ("images", "image_id")):
    urlpatterns += [
        path(
            f"library/trash/{_kind}/<id:{_id}>/",
            trash.TrashEntryView.as_view(),
            {"kind": _kind},
            name=f"library-trash-{_kind}",
        ),
        path(
            f"library/trash/{_kind}/<id:{_id}>/restore/",
            trash.TrashRestoreView.as_view(),
            {"kind": _kind},
            name=f"library-trash-{_kind}-restore",
        ),
    ]
