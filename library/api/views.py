from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from library import selectors, services
from library.models import LibraryItem
from library.views import search_filters


class LibraryItemSerializer(serializers.ModelSerializer):
    thumbnail_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    photo = serializers.PrimaryKeyRelatedField(read_only=True)
    generated_image = serializers.PrimaryKeyRelatedField(read_only=True)
    project = serializers.PrimaryKeyRelatedField(read_only=True)

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


FILTERS = [
    OpenApiParameter("project", int),
    OpenApiParameter("kind", str, enum=list(LibraryItem.Kind.values)),
    OpenApiParameter("since", str, description="YYYY-MM-DD"),
    OpenApiParameter("until", str, description="YYYY-MM-DD"),
    OpenApiParameter("favourites", bool),
]


class LibrarySearchView(APIView):
    @extend_schema(
        summary="Search your photos and generated images by meaning",
        parameters=[OpenApiParameter("q", str, required=True), *FILTERS],
        responses=HitSerializer(many=True),
    )
    def get(self, request):
        query = request.query_params.get("q", "").strip()
        if not query:
            raise ValidationError({"q": ["Describe what you are looking for."]})
        hits = services.library_search(user=request.user, query=query, **search_filters(request.query_params))
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
    generated_image = serializers.IntegerField(required=False, allow_null=True, help_text="One of your images.")
    album = serializers.IntegerField(required=False, allow_null=True, help_text="One of your albums.")
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
            .filter(id=value, generation__user=self.context["request"].user)
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


class ShareDetailView(APIView):
    @extend_schema(responses=ShareSerializer, summary="One share link")
    def get(self, request, share_id: int):
        share = selectors.share_get_for_user(user=request.user, share_id=share_id)
        return Response(ShareSerializer(share, context={"request": request}).data)


class ShareRevokeView(APIView):
    @extend_schema(request=None, responses=ShareSerializer, summary="Revoke a share link; it stops working at once")
    def post(self, request, share_id: int):
        share = selectors.share_get_for_user(user=request.user, share_id=share_id)
        share = services.share_revoke(user=request.user, share=share)
        return Response(ShareSerializer(share, context={"request": request}).data)
