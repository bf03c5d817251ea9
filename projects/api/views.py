from django.http import FileResponse, Http404
from django.utils.translation import gettext
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from core.api.schema import ApiErrorSerializer
from core.files import open_stored
from core.formats import content_type_for
from projects import selectors, services
from projects.access import Can
from projects.api.serializers import (
    PhotoSerializer,
    PhotoUpdateSerializer,
    PhotoUploadResultSerializer,
    PhotoUploadSerializer,
    ProjectDetailSerializer,
    ProjectInputSerializer,
    ProjectSerializer,
)


class ProjectViewSet(viewsets.ViewSet):
    lookup_value_regex = r"\d+"
    # Named here (a plain ViewSet has none) so the schema documents the paginated list it returns.
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    def _project(self, pk, capability: Can = Can.VIEW):
        return selectors.project_get_for_user(user=self.request.user, project_id=pk, capability=capability)

    @extend_schema(
        responses=ProjectSerializer(many=True),
        summary="Your projects",
        description="Every project you are a member of (your own and those shared with you), with your `role`.",
    )
    def list(self, request):
        paginator = self.paginator
        page = paginator.paginate_queryset(selectors.project_list_for_user(user=request.user), request, view=self)
        return paginator.get_paginated_response(ProjectSerializer(page, many=True).data)

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            self._paginator = self.pagination_class()
        return self._paginator

    @extend_schema(request=ProjectInputSerializer, responses={201: ProjectDetailSerializer}, summary="Create a project")
    def create(self, request):
        data = ProjectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_create(owner=request.user, **data.validated_data)
        # Read back through the selector, which counts the photos the answer promises.
        return Response(ProjectDetailSerializer(self._project(project.id)).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=ProjectDetailSerializer, summary="A project with its readiness report")
    def retrieve(self, request, pk=None):
        return Response(ProjectDetailSerializer(self._project(pk)).data)

    @extend_schema(
        request=ProjectInputSerializer(partial=True), responses=ProjectDetailSerializer, summary="Change a project"
    )
    def partial_update(self, request, pk=None):
        project = self._project(pk, Can.MANAGE)
        data = ProjectInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = {key: value for key, value in data.validated_data.items() if not (key == "trigger_word" and not value)}
        services.project_update(project=project, actor=request.user, **fields)
        return Response(ProjectDetailSerializer(self._project(pk)).data)

    @extend_schema(responses={204: None}, summary="Delete a project, its photos and their files")
    def destroy(self, request, pk=None):
        services.project_delete(project=self._project(pk, Can.MANAGE))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PhotoViewSet(viewsets.ViewSet):
    lookup_value_regex = r"\d+"
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def _project(self, capability: Can = Can.VIEW):
        return selectors.project_get_for_user(
            user=self.request.user, project_id=self.kwargs["project_pk"], capability=capability
        )

    def _photo(self, pk, capability: Can = Can.VIEW):
        return selectors.photo_get_for_user(
            user=self.request.user, photo_id=pk, project_id=self.kwargs["project_pk"], capability=capability
        )

    @extend_schema(responses=PhotoSerializer(many=True), summary="A project's photos")
    def list(self, request, project_pk=None):
        photos = selectors.photo_list_for_project(project=self._project())
        return Response(PhotoSerializer(photos, many=True, context={"request": request}).data)

    @extend_schema(
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={
            201: PhotoUploadResultSerializer,
            # Every file refused (the result), or no file at all (the usual error body).
            400: PolymorphicProxySerializer(
                component_name="PhotoUploadRefused",
                serializers=[PhotoUploadResultSerializer, ApiErrorSerializer],
                resource_type_field_name=None,
            ),
        },
        summary="Upload photos (multipart field `files`, repeatable); each file is accepted or refused on its own",
    )
    def create(self, request, project_pk=None):
        project = self._project(Can.EDIT)
        files = request.FILES.getlist("files")
        if not files:
            raise ValidationError({"files": [gettext("Attach one or more photos in the multipart field `files`.")]})
        result = services.photo_upload(project=project, files=files, actor=request.user)
        body = {
            "accepted": PhotoSerializer(result.accepted, many=True, context={"request": request}).data,
            "rejected": [{"name": name, "error": error} for name, error in result.rejected],
        }
        return Response(body, status=status.HTTP_201_CREATED if result.accepted else status.HTTP_400_BAD_REQUEST)

    @extend_schema(responses=PhotoSerializer, summary="One photo")
    def retrieve(self, request, project_pk=None, pk=None):
        return Response(PhotoSerializer(self._photo(pk), context={"request": request}).data)

    @extend_schema(request=PhotoUpdateSerializer, responses=PhotoSerializer, summary="Describe a photo")
    def partial_update(self, request, project_pk=None, pk=None):
        photo = self._photo(pk, Can.EDIT)
        data = PhotoUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        photo = services.photo_update_description(
            photo=photo, description=data.validated_data["description"], actor=request.user
        )
        return Response(PhotoSerializer(photo, context={"request": request}).data)

    @extend_schema(
        responses={204: None},
        summary="Move a photo to the trash",
        description="The photo leaves the project, its readiness and the library at once; it stays restorable "
        "for TRASH_RETENTION_DAYS (30 by default) at `POST /api/v1/library/trash/photos/{id}/restore/`, then it "
        "and its files are purged. `DELETE /api/v1/library/trash/photos/{id}/` deletes it for good now.",
    )
    def destroy(self, request, project_pk=None, pk=None):
        services.photo_trash(photo=self._photo(pk, Can.EDIT), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(exclude=True)
class PhotoFileView(APIView):
    """A stored photo file, for the project's members only (session or bearer token); a trashed
    photo's only for those who may edit (see the trash). S3 uses presigned URLs."""

    def get(self, request, photo_id: int, variant: str):
        if variant not in selectors.VARIANTS:
            raise Http404
        # Photos in the trash too: the trash page shows what it holds.
        photo = selectors.photo_get_for_user(user=request.user, photo_id=photo_id, trashed=None)
        field = getattr(photo, selectors.VARIANTS[variant])
        if not field:
            raise Http404
        if variant == "original":
            content_type = content_type_for(photo.format)
        else:
            content_type = content_type_for("JPEG" if variant == "training" else "WEBP")
        response = FileResponse(
            open_stored(field.name),
            content_type=content_type,
            as_attachment=variant == "original",
            filename=photo.original_filename if variant == "original" else None,
        )
        response["Cache-Control"] = "private, max-age=300"
        return response
