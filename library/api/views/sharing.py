"""Share links: the owner's list, making one, and revoking it."""

from django.http import Http404
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import IdField
from generation import selectors as generation_selectors
from library import selectors
from library.models import Album
from library.services import sharing
from projects.access import Can


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
        max_value=sharing.SHARE_MAX_DAYS,
        help_text="Empty or null: the link works until revoked.",
    )

    def validate_generated_image(self, value):
        if value is None:
            return None
        # As on the website: an image the user may change (EDIT on its project); 403 for a viewer.
        try:
            return generation_selectors.image_get_for_user(
                user=self.context["request"].user, image_id=value, capability=Can.EDIT
            )
        except Http404:
            raise ValidationError(_("No image of yours has this id.")) from None

    def validate_album(self, value):
        if value is None:
            return None
        album = Album.objects.filter(id=value, user=self.context["request"].user).first()
        if album is None:
            raise ValidationError(_("No album of yours has this id."))
        return album

    def validate(self, data):
        if (data.get("generated_image") is None) == (data.get("album") is None):
            raise ValidationError(_("Give either generated_image or album."))
        return data


# A share link is a secret (anyone who has it can view): no cache may keep a copy.
@method_decorator(never_cache, name="dispatch")
@extend_schema_view(get=extend_schema(summary="Your share links, newest first"))
class ShareListCreateView(ListAPIView):
    serializer_class = ShareSerializer

    def get_queryset(self):
        return selectors.share_list_for_user(user=self.request.user)

    @extend_schema(
        request=ShareCreateSerializer,
        responses={201: ShareSerializer},
        summary="Share one of your images or albums through a read-only link",
    )
    def post(self, request):
        data = ShareCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        share = sharing.share_create(user=request.user, **data.validated_data)
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
        share = sharing.share_revoke(user=request.user, share=share)
        return Response(ShareSerializer(share, context={"request": request}).data)
