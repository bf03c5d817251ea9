from django.core.validators import RegexValidator
from django.db import transaction
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import IdField
from core.api.filters import QueryFilters, query_filters
from core.api.schema import ApiErrorSerializer
from library import selectors, services
from library.models import LibraryItem


class LibraryItemSerializer(serializers.ModelSerializer):
    thumbnail_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    # An item is a photo or a generated image; generated images may have no project (the base model).
    photo = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    generated_image = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    project = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = LibraryItem
        fields = [
            "id",
            "kind",
            "photo",
            "generated_image",
            "project",
            "status",
            "caption",
            "description",
            "aesthetic",
            "tags",
            "colours",
            "camera",
            "taken_at",
            "face_count",
            "width",
            "height",
            "url",
            "thumbnail_url",
            "created_at",
        ]

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request and url.startswith("/") else url

    def get_thumbnail_url(self, item) -> str:
        return self._absolute(selectors.item_thumbnail_url(item=item))

    def get_url(self, item) -> str:
        return self._absolute(selectors.item_full_url(item=item))


class HitSerializer(serializers.Serializer):
    score = serializers.FloatField(help_text="Cosine similarity, 0-1; results under the cut-off are left out.")
    matched = serializers.ListField(child=serializers.CharField(), help_text="Query words found in the item's text.")
    item = LibraryItemSerializer()


class LibrarySearchFilters(QueryFilters):
    q = serializers.CharField(
        validators=[RegexValidator(r"\S")],
        error_messages={
            "required": "Describe what you are looking for.",
            "blank": "Describe what you are looking for.",
        },
        help_text="What you are looking for, in your own words.",
    )
    project = IdField(required=False, help_text="Only this project's")
    kind = serializers.ChoiceField(choices=LibraryItem.Kind.values, required=False)
    since = serializers.DateField(required=False, help_text="Taken or made on this day or later (YYYY-MM-DD)")
    until = serializers.DateField(required=False, help_text="Taken or made on this day or earlier (YYYY-MM-DD)")
    favourites = serializers.BooleanField(default=False, help_text="Only favourite images")


class LibrarySearchView(APIView):
    @extend_schema(
        summary="Search your photos and generated images by meaning",
        parameters=[LibrarySearchFilters],
        responses=HitSerializer(many=True),
    )
    def get(self, request):
        filters = query_filters(LibrarySearchFilters, request)
        hits = services.library_search(
            user=request.user,
            query=filters["q"],
            project_id=filters.get("project"),
            kind=filters.get("kind"),
            since=filters.get("since"),
            until=filters.get("until"),
            favourites=filters["favourites"],
        )
        return Response(HitSerializer(hits, many=True, context={"request": request}).data)


class LibraryItemDetailView(APIView):
    @extend_schema(responses=LibraryItemSerializer, summary="One library item with its analysis")
    def get(self, request, item_id: int):
        item = selectors.item_get_for_user(user=request.user, item_id=item_id)
        return Response(LibraryItemSerializer(item, context={"request": request}).data)


class LibrarySimilarView(APIView):
    @extend_schema(responses=HitSerializer(many=True), summary="Items similar to this one")
    def get(self, request, item_id: int):
        item = selectors.item_get_for_user(user=request.user, item_id=item_id)
        hits = services.library_similar(item=item)
        return Response(HitSerializer(hits, many=True, context={"request": request}).data)


# Sharing
# ------------------------------------------------------------------------------


class ShareSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField(help_text="The public, read-only page; no login needed.")
    state = serializers.SerializerMethodField()
    generated_image = serializers.IntegerField(source="generated_image_id", read_only=True, allow_null=True)
    album = serializers.IntegerField(source="album_id", read_only=True, allow_null=True)
    expires_at = serializers.DateTimeField(read_only=True, allow_null=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    views = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def get_url(self, share) -> str:
        url = selectors.share_url(share=share)
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_state(self, share) -> str:
        """active, expired or revoked."""
        return selectors.share_state(share=share)


class ShareCreateSerializer(serializers.Serializer):
    generated_image = IdField(required=False, allow_null=True, help_text="One of your images.")
    album = IdField(required=False, allow_null=True, help_text="One of your albums.")
    expires_in_days = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=services.SHARE_MAX_DAYS,
        help_text="Empty or null: the link works until revoked.",
    )

    def validate_generated_image(self, value):
        from generation.models import GeneratedImage

        if value is None:
            return None
        image = (
            GeneratedImage.objects.select_related("generation")
            .filter(id=value, generation__user=self.context["request"].user, trashed_at__isnull=True)
            .first()
        )
        if image is None:
            raise ValidationError("No image of yours has this id.")
        return image

    def validate_album(self, value):
        from library.models import Album

        if value is None:
            return None
        album = Album.objects.filter(id=value, user=self.context["request"].user).first()
        if album is None:
            raise ValidationError("No album of yours has this id.")
        return album

    def validate(self, data):
        if (data.get("generated_image") is None) == (data.get("album") is None):
            raise ValidationError("Give either generated_image or album.")
        return data


# A share link is a secret (anyone who has it can view): no cache may keep a copy.
@method_decorator(never_cache, name="dispatch")
class ShareListCreateView(ListAPIView):
    serializer_class = ShareSerializer

    def get_queryset(self):
        return selectors.share_list_for_user(user=self.request.user)

    @extend_schema(summary="Your share links, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ShareCreateSerializer,
        responses={201: ShareSerializer},
        summary="Share one of your images or albums through a read-only link",
    )
    def post(self, request):
        data = ShareCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        try:
            share = services.share_create(user=request.user, **data.validated_data)
        except services.ShareNotAllowed as refusal:
            raise ValidationError({"non_field_errors": [str(refusal)]}) from refusal
        return Response(ShareSerializer(share, context={"request": request}).data, status=201)


# A share link is a secret (anyone who has it can view): no cache may keep a copy.
@method_decorator(never_cache, name="dispatch")
class ShareDetailView(APIView):
    @extend_schema(responses=ShareSerializer, summary="One share link")
    def get(self, request, share_id: int):
        share = selectors.share_get_for_user(user=request.user, share_id=share_id)
        return Response(ShareSerializer(share, context={"request": request}).data)


# A share link is a secret (anyone who has it can view): no cache may keep a copy.
@method_decorator(never_cache, name="dispatch")
class ShareRevokeView(APIView):
    @extend_schema(request=None, responses=ShareSerializer, summary="Revoke a share link; it stops working at once")
    def post(self, request, share_id: int):
        share = selectors.share_get_for_user(user=request.user, share_id=share_id)
        share = services.share_revoke(user=request.user, share=share)
        return Response(ShareSerializer(share, context={"request": request}).data)


# Albums and suggested albums
# ------------------------------------------------------------------------------


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
        url = selectors.item_thumbnail_url(item=album.display_cover)
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request and url.startswith("/") else url


class AlbumCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=services.ALBUM_NAME_MAX)
    items = serializers.ListField(
        child=IdField(),
        required=False,
        max_length=services.ALBUM_ITEMS_PER_CHANGE,
        help_text="Library item ids to put in the album.",
    )


class AlbumUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=services.ALBUM_NAME_MAX, required=False)
    cover = IdField(required=False, allow_null=True, help_text="One of the album's items; null for the default.")


class AlbumItemsSerializer(serializers.Serializer):
    # min_length puts minItems in the schema (allow_empty alone does not); allow_empty keeps its message.
    items = serializers.ListField(
        child=IdField(),
        allow_empty=False,
        min_length=1,
        max_length=services.ALBUM_ITEMS_PER_CHANGE,
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
        max_length=services.ALBUM_NAME_MAX,
        required=False,
        help_text="The album's name; the proposed title if left out.",
    )


def _album_refused(refusal: Exception, field: str = "non_field_errors") -> ValidationError:
    return ValidationError({field: [str(refusal)]})


def _album_data(request, album_id: int) -> dict:
    """The album as the list shows it (item count, cover), for any response about one album."""
    albums = selectors.album_attach_covers(albums=selectors.album_list_for_user(user=request.user).filter(id=album_id))
    return AlbumSerializer(albums[0], context={"request": request}).data


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
        try:
            album = services.album_create(
                user=request.user, name=data.validated_data["name"], item_ids=data.validated_data.get("items", [])
            )
        except services.AlbumError as refusal:
            raise _album_refused(refusal) from refusal
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
        try:
            with transaction.atomic():
                if "name" in data.validated_data:
                    services.album_rename(album=album, name=data.validated_data["name"])
                if "cover" in data.validated_data:
                    services.album_set_cover(album=album, item_id=data.validated_data["cover"])
        except services.AlbumError as refusal:
            raise _album_refused(refusal) from refusal
        return Response(_album_data(request, album.id))

    @extend_schema(responses={204: None}, summary="Delete an album (its items stay in the library)")
    def delete(self, request, album_id: int):
        services.album_delete(album=selectors.album_get_for_user(user=request.user, album_id=album_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlbumItemsView(ListAPIView):
    serializer_class = LibraryItemSerializer

    def get_queryset(self):
        album = selectors.album_get_for_user(user=self.request.user, album_id=self.kwargs["album_id"])
        return selectors.album_items(album=album)

    @extend_schema(summary="An album's items, in the order they were added")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=AlbumItemsSerializer,
        responses=AlbumItemsChangedSerializer,
        summary="Add library items to an album (adding one twice changes nothing)",
    )
    def post(self, request, album_id: int):
        album = selectors.album_get_for_user(user=request.user, album_id=album_id)
        data = AlbumItemsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            added = services.album_add_items(album=album, item_ids=data.validated_data["items"])
        except services.AlbumError as refusal:
            raise _album_refused(refusal, "items") from refusal
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
        removed = services.album_remove_items(album=album, item_ids=data.validated_data["items"])
        return Response({"changed": removed, "album": _album_data(request, album.id)})


class AlbumSuggestionListView(ListAPIView):
    serializer_class = AlbumSuggestionSerializer

    def get_queryset(self):
        return selectors.album_suggestion_list_for_user(user=self.request.user)

    @extend_schema(summary="Open album suggestions, biggest first, with their items")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AlbumSuggestionRefreshView(APIView):
    @extend_schema(
        request=None,
        responses=AlbumSuggestionSerializer(many=True),
        summary="Group your items into album suggestions (accepted or dismissed ones never come back)",
    )
    def post(self, request):
        services.album_suggestions_refresh(user=request.user)
        suggestions = selectors.album_suggestion_list_for_user(user=request.user)
        return Response(AlbumSuggestionSerializer(suggestions, many=True, context={"request": request}).data)


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
        try:
            album = services.album_suggestion_accept(suggestion=suggestion, title=data.validated_data.get("title"))
        except services.AlbumError as refusal:
            raise _album_refused(refusal) from refusal
        return Response(_album_data(request, album.id), status=status.HTTP_201_CREATED)


class AlbumSuggestionDismissView(APIView):
    @extend_schema(
        request=None,
        responses={204: None, 400: OpenApiResponse(ApiErrorSerializer, description="Accepted or dismissed already.")},
        summary="Dismiss a suggestion; it is not proposed again",
    )
    def post(self, request, suggestion_id: int):
        suggestion = selectors.album_suggestion_get_for_user(user=request.user, suggestion_id=suggestion_id)
        try:
            services.album_suggestion_dismiss(suggestion=suggestion)
        except services.AlbumError as refusal:
            raise _album_refused(refusal) from refusal
        return Response(status=status.HTTP_204_NO_CONTENT)


# Trash
# ------------------------------------------------------------------------------


class TrashEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=selectors.TRASH_KINDS, read_only=True)
    id = serializers.IntegerField(read_only=True, help_text="The photo's or generated image's id.")
    name = serializers.CharField(read_only=True)
    where = serializers.CharField(read_only=True, help_text="Its project, or the prompt it was generated from.")
    trashed_at = serializers.DateTimeField(read_only=True)
    purge_at = serializers.DateTimeField(read_only=True, help_text="When it and its files are deleted for good.")
    days_left = serializers.IntegerField(read_only=True)
    thumbnail_url = serializers.SerializerMethodField()

    def get_thumbnail_url(self, entry) -> str:
        request = self.context.get("request")
        url = entry.thumbnail_url
        return request.build_absolute_uri(url) if request and url.startswith("/") else url


class TrashView(ListAPIView):
    serializer_class = TrashEntrySerializer

    def get_queryset(self):
        return selectors.trash_for_user(user=self.request.user)

    @extend_schema(
        summary="Your trash",
        description="Photos and generated images deleted through the API or the site (`DELETE` on a photo or "
        "image moves it here), most recently trashed first. Each stays restorable until `purge_at` "
        "(TRASH_RETENTION_DAYS after it was trashed, 30 by default); then a periodic task deletes it and its "
        "stored files for good.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(responses={204: None}, summary="Empty the trash: delete everything in it, and its files, for good")
    def delete(self, request):
        services.trash_empty(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TrashEntryView(APIView):
    @extend_schema(responses={204: None}, summary="Delete a photo or image in the trash for good now, with its files")
    def delete(self, request, kind: str, photo_id: int | None = None, image_id: int | None = None):
        source = selectors.trash_get_for_user(user=request.user, kind=kind, object_id=photo_id or image_id)
        services.trash_delete_permanently(source=source)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TrashRestoreView(APIView):
    @extend_schema(
        request=None,
        responses={204: None, 400: OpenApiResponse(ApiErrorSerializer, description="The project has no room for it")},
        summary="Restore a photo or image from the trash",
        description="It is back where it was (project, gallery, library, albums). A photo is refused while its "
        "project already has PROJECT_PHOTOS_MAX photos.",
    )
    def post(self, request, kind: str, photo_id: int | None = None, image_id: int | None = None):
        source = selectors.trash_get_for_user(user=request.user, kind=kind, object_id=photo_id or image_id)
        try:
            services.trash_restore(source=source)
        except services.TrashError as refusal:
            raise ValidationError({"non_field_errors": [str(refusal)]}) from refusal
        return Response(status=status.HTTP_204_NO_CONTENT)
