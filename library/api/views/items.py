"""Library items: search by meaning, one item, and the items like it."""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import IdField
from core.api.filters import QueryFilters, query_filters
from library import selectors
from library.models import LibraryItem


def absolute(request, url: str) -> str:
    """A site-relative URL made absolute for API clients; signed storage URLs are already."""
    return request.build_absolute_uri(url) if request and url.startswith("/") else url


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

    def get_thumbnail_url(self, item) -> str:
        return absolute(self.context.get("request"), selectors.item_thumbnail_url(item=item))

    def get_url(self, item) -> str:
        return absolute(self.context.get("request"), selectors.item_full_url(item=item))


class HitSerializer(serializers.Serializer):
    score = serializers.FloatField(
        help_text="Meaning (cosine similarity, 0-1) plus a bonus for the query's exact words the item holds; "
        "results under the cut-off are left out."
    )
    matched = serializers.ListField(
        child=serializers.CharField(),
        help_text="The query's words found in the item's caption, description, tags, file name or prompt "
        "(never its project's name).",
    )
    why = serializers.CharField(
        help_text='Why it was found, as the website says it (in the language of Accept-Language): "matched: '
        '<words>", or "similar meaning" when none of the words are the item\'s.'
    )
    item = LibraryItemSerializer()


class LibrarySearchFilters(QueryFilters):
    q = serializers.CharField(
        validators=[RegexValidator(r"\S")],
        error_messages={
            "required": _("Describe what you are looking for."),
            "blank": _("Describe what you are looking for."),
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
        hits = selectors.library_search(
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
        hits = selectors.library_similar(item=item, user=request.user)
        return Response(HitSerializer(hits, many=True, context={"request": request}).data)
