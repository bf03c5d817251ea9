from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
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
