from django.urls import path

from library.api import views

urlpatterns = [
    path("library/search/", views.LibrarySearchView.as_view(), name="library-search"),
    path("library/items/<int:item_id>/", views.LibraryItemDetailView.as_view(), name="library-item"),
    path("library/items/<int:item_id>/similar/", views.LibrarySimilarView.as_view(), name="library-similar"),
]

# Sharing
urlpatterns += [
    path("library/shares/", views.ShareListCreateView.as_view(), name="library-share-list"),
    path("library/shares/<int:share_id>/", views.ShareDetailView.as_view(), name="library-share-detail"),
    path("library/shares/<int:share_id>/revoke/", views.ShareRevokeView.as_view(), name="library-share-revoke"),
]
