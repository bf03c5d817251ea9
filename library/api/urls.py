from django.urls import path

from library.api import views

urlpatterns = [
    path("library/search/", views.LibrarySearchView.as_view(), name="library-search"),
    path("library/items/<id:item_id>/", views.LibraryItemDetailView.as_view(), name="library-item"),
    path("library/items/<id:item_id>/similar/", views.LibrarySimilarView.as_view(), name="library-similar"),
]

# Sharing
urlpatterns += [
    path("library/shares/", views.ShareListCreateView.as_view(), name="library-share-list"),
    path("library/shares/<id:share_id>/", views.ShareDetailView.as_view(), name="library-share-detail"),
    path("library/shares/<id:share_id>/revoke/", views.ShareRevokeView.as_view(), name="library-share-revoke"),
]

# Albums and suggested albums
urlpatterns += [
    path("library/albums/", views.AlbumListCreateView.as_view(), name="library-albums"),
    path("library/albums/<id:album_id>/", views.AlbumDetailView.as_view(), name="library-album"),
    path("library/albums/<id:album_id>/items/", views.AlbumItemsView.as_view(), name="library-album-items"),
    path(
        "library/albums/<id:album_id>/items/remove/",
        views.AlbumItemsRemoveView.as_view(),
        name="library-album-items-remove",
    ),
    path("library/album-suggestions/", views.AlbumSuggestionListView.as_view(), name="library-album-suggestions"),
    path(
        "library/album-suggestions/refresh/",
        views.AlbumSuggestionRefreshView.as_view(),
        name="library-album-suggestions-refresh",
    ),
    path(
        "library/album-suggestions/<id:suggestion_id>/accept/",
        views.AlbumSuggestionAcceptView.as_view(),
        name="library-album-suggestion-accept",
    ),
    path(
        "library/album-suggestions/<id:suggestion_id>/dismiss/",
        views.AlbumSuggestionDismissView.as_view(),
        name="library-album-suggestion-dismiss",
    ),
]

# Trash: DELETE on a photo or generated image moves it here; DELETE here deletes it for good.
urlpatterns += [path("library/trash/", views.TrashView.as_view(), name="library-trash")]
for _kind, _id in (("photos", "photo_id"), ("images", "image_id")):
    urlpatterns += [
        path(
            f"library/trash/{_kind}/<id:{_id}>/",
            views.TrashEntryView.as_view(),
            {"kind": _kind},
            name=f"library-trash-{_kind}",
        ),
        path(
            f"library/trash/{_kind}/<id:{_id}>/restore/",
            views.TrashRestoreView.as_view(),
            {"kind": _kind},
            name=f"library-trash-{_kind}-restore",
        ),
    ]
