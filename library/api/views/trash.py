"""The trash: list, empty, restore, and delete for good."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.schema import ApiErrorSerializer
from library import selectors
from library.api.views.items import absolute
from library.services import trash


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
        return absolute(self.context.get("request"), entry.thumbnail_url)


@extend_schema_view(
    get=extend_schema(
        summary="Your trash",
        description="Photos and generated images deleted through the API or the site (`DELETE` on a photo or "
        "image moves it here), most recently trashed first. Each stays restorable until `purge_at` "
        "(TRASH_RETENTION_DAYS after it was trashed, 30 by default); then a periodic task deletes it and its "
        "stored files for good.",
    )
)
class TrashView(ListAPIView):
    serializer_class = TrashEntrySerializer

    def get_queryset(self):
        return selectors.trash_for_user(user=self.request.user)

    @extend_schema(responses={204: None}, summary="Empty the trash: delete everything in it, and its files, for good")
    def delete(self, request):
        trash.trash_empty(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TrashEntryView(APIView):
    @extend_schema(responses={204: None}, summary="Delete a photo or image in the trash for good now, with its files")
    def delete(self, request, kind: str, photo_id: int | None = None, image_id: int | None = None):
        source = selectors.trash_get_for_user(user=request.user, kind=kind, object_id=photo_id or image_id)
        trash.trash_delete_permanently(source=source, actor=request.user)
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
        trash.trash_restore(source=source, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
