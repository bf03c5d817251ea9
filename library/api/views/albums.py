"""Albums and suggested albums."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import IdField
from core.api.schema import ApiErrorSerializer
from library import selectors
from library.api.views.items import LibraryItemSerializer, absolute
from library.services import albums, suggestions
from library.services.albums import ALBUM_ITEMS_PER_CHANGE, ALBUM_NAME_MAX


class AlbumSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    cover = serializers.IntegerField(
        source="cover_id", read_only=True, allow_null=True, help_text="The chosen cover item, if any."
    )
    cover_thumbnail_url = serializers.SerializerMethodField(
        help_text="The chosen cover, else the first item added; empty for an empty album."
    )
    item_count = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def get_cover_thumbnail_url(self, album) -> str:
        if not album.display_cover:
            return ""
        return absolute(self.context.get("request"), selectors.item_thumbnail_url(item=album.display_cover))


class AlbumCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=ALBUM_NAME_MAX)
    items = serializers.ListField(
        child=IdField(),
        required=False,
        max_length=ALBUM_ITEMS_PER_CHANGE,
        help_text="Library item ids to put in the album.",
    )


class AlbumUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=ALBUM_NAME_MAX, required=False)
    cover = IdField(required=False, allow_null=True, help_text="One of the album's items; null for the default.")


class AlbumItemsSerializer(serializers.Serializer):
    # min_length puts minItems in the schema (allow_empty alone does not); allow_empty keeps its message.
    items = serializers.ListField(
        child=IdField(),
        allow_empty=False,
        min_length=1,
        max_length=ALBUM_ITEMS_PER_CHANGE,
        help_text="Library item ids: at least one.",
    )


class AlbumItemsChangedSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="How many items were added (new ones only) or removed.")
    album = AlbumSerializer()


class AlbumSuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    key = serializers.CharField(read_only=True, help_text="Stable for the same items.")
    album = serializers.IntegerField(source="album_id", read_only=True, allow_null=True)
    items = LibraryItemSerializer(many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class AlbumSuggestionAcceptSerializer(serializers.Serializer):
    title = serializers.CharField(
        max_length=ALBUM_NAME_MAX,
        required=False,
        help_text="The album's name; the proposed title if left out.",
    )


def _album_data(request, album_id: int) -> dict:
    """The album as the list shows it (item count, cover), for any response about one album."""
    found = selectors.album_attach_covers(albums=selectors.album_list_for_user(user=request.user).filter(id=album_id))
    return AlbumSerializer(found[0], context={"request": request}).data


class AlbumListCreateView(ListAPIView):
    serializer_class = AlbumSerializer

    def get_queryset(self):
        return selectors.album_list_for_user(user=self.request.user)

    @extend_schema(summary="Your albums, newest first, with item counts and covers")
    def get(self, request, *args, **kwargs):
        page = selectors.album_attach_covers(albums=self.paginate_queryset(self.get_queryset()))
        return self.get_paginated_response(AlbumSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(request=AlbumCreateSerializer, responses={201: AlbumSerializer}, summary="Create an album")
    def post(self, request):
        data = AlbumCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        album = albums.album_create(
            user=request.user, name=data.validated_data["name"], item_ids=data.validated_data.get("items", [])
        )
        return Response(_album_data(request, album.id), status=status.HTTP_201_CREATED)


class AlbumDetailView(APIView):
    @extend_schema(responses=AlbumSerializer, summary="One album")
    def get(self, request, album_id: int):
        album = selectors.album_get_for_user(user=request.user, album_id=album_id)
        return Response(_album_data(request, album.id))

    @extend_schema(request=AlbumUpdateSerializer, responses=AlbumSerializer, summary="Rename an album or set its cover")
    def patch(self, request, album_id: int):
        album = selectors.album_get_for_user(user=request.user, album_id=album_id)
        data = AlbumUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        albums.album_update(album=album, **data.validated_data)
        return Response(_album_data(request, album.id))

    @extend_schema(responses={204: None}, summary="Delete an album (its items stay in the library)")
    def delete(self, request, album_id: int):
        albums.album_delete(album=selectors.album_get_for_user(user=request.user, album_id=album_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(get=extend_schema(summary="An album's items, in the order they were added"))
class AlbumItemsView(ListAPIView):
    serializer_class = LibraryItemSerializer

    def get_queryset(self):
        album = selectors.album_get_for_user(user=self.request.user, album_id=self.kwargs["album_id"])
        return selectors.album_items(album=album)

    @extend_schema(
        request=AlbumItemsSerializer,
        responses=AlbumItemsChangedSerializer,
        summary="Add library items to an album (adding one twice changes nothing)",
    )
    def post(self, request, album_id: int):
        album = selectors.album_get_for_user(user=request.user, album_id=album_id)
        data = AlbumItemsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        added = albums.album_add_items(album=album, item_ids=data.validated_data["items"])
        return Response({"changed": added, "album": _album_data(request, album.id)})


class AlbumItemsRemoveView(APIView):
    @extend_schema(
        request=AlbumItemsSerializer,
        responses=AlbumItemsChangedSerializer,
        summary="Take items out of an album (they stay in the library)",
    )
    def post(self, request, album_id: int):
        album = selectors.album_get_for_user(user=request.user, album_id=album_id)
        data = AlbumItemsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        removed = albums.album_remove_items(album=album, item_ids=data.validated_data["items"])
        return Response({"changed": removed, "album": _album_data(request, album.id)})


@extend_schema_view(get=extend_schema(summary="Open album suggestions, biggest first, with their items"))
class AlbumSuggestionListView(ListAPIView):
    serializer_class = AlbumSuggestionSerializer

    def get_queryset(self):
        return selectors.album_suggestion_list_for_user(user=self.request.user)


class AlbumSuggestionRefreshView(APIView):
    @extend_schema(
        request=None,
        responses=AlbumSuggestionSerializer(many=True),
        summary="Group your items into album suggestions (accepted or dismissed ones never come back)",
    )
    def post(self, request):
        suggestions.album_suggestions_refresh(user=request.user)
        found = selectors.album_suggestion_list_for_user(user=request.user)
        return Response(AlbumSuggestionSerializer(found, many=True, context={"request": request}).data)


class AlbumSuggestionAcceptView(APIView):
    @extend_schema(
        request=AlbumSuggestionAcceptSerializer,
        responses={201: AlbumSerializer},
        summary="Accept a suggestion: create its album, under an edited title if given",
    )
    def post(self, request, suggestion_id: int):
        suggestion = selectors.album_suggestion_get_for_user(user=request.user, suggestion_id=suggestion_id)
        data = AlbumSuggestionAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        album = suggestions.album_suggestion_accept(suggestion=suggestion, title=data.validated_data.get("title"))
        return Response(_album_data(request, album.id), status=status.HTTP_201_CREATED)


class AlbumSuggestionDismissView(APIView):
    @extend_schema(
        request=None,
        responses={204: None, 400: OpenApiResponse(ApiErrorSerializer, description="Accepted or dismissed already.")},
        summary="Dismiss a suggestion; it is not proposed again",
    )
    def post(self, request, suggestion_id: int):
        suggestion = selectors.album_suggestion_get_for_user(user=request.user, suggestion_id=suggestion_id)
        suggestions.album_suggestion_dismiss(suggestion=suggestion)
        return Response(status=status.HTTP_204_NO_CONTENT)
