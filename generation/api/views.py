from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import IdField
from core.api.filters import QueryFilters, query_filters
from core.api.schema import PROVIDER_UNAVAILABLE
from core.files import open_stored
from core.formats import PIL_FORMATS, content_type_for
from core.ratelimit import by_user, rate_limit
from generation import selectors, services
from generation.models import GeneratedImage, Generation
from projects.access import Can


class GeneratedImageSerializer(serializers.ModelSerializer):
    generation = serializers.PrimaryKeyRelatedField(read_only=True)
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    likeness_flag = serializers.CharField(read_only=True)

    class Meta:
        model = GeneratedImage
        fields = [
            "id",
            "generation",
            "index",
            "url",
            "thumbnail_url",
            "width",
            "height",
            "seed",
            "format",
            "bytes",
            "favourite",
            "face_count",
            "likeness",
            "likeness_flag",
            "created_at",
        ]
        read_only_fields = [field for field in fields if field != "favourite"]

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request and url.startswith("/") else url

    def get_url(self, image) -> str:
        return self._absolute(selectors.image_url(image=image, variant="file"))

    def get_thumbnail_url(self, image) -> str:
        return self._absolute(selectors.image_url(image=image, variant="thumbnail"))


class GenerationSerializer(serializers.ModelSerializer):
    model = serializers.PrimaryKeyRelatedField(source="training_run", read_only=True, allow_null=True)
    project = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    images = GeneratedImageSerializer(many=True, read_only=True)
    simulated = serializers.BooleanField(read_only=True)
    prompt = serializers.CharField(
        read_only=True, help_text="The prompt sent to the provider: in English once translated, the trigger word added."
    )
    prompt_typed = serializers.CharField(source="prompt_as_typed", read_only=True, help_text="The prompt as written.")
    prompt_language = serializers.CharField(
        read_only=True, help_text='The typed prompt\'s language (ISO 639-1, detected offline); "" if not known.'
    )
    prompt_translation = serializers.ChoiceField(
        choices=Generation.PromptTranslation.values,
        read_only=True,
        help_text="pending (translated before it is sent), not_needed (typed in English), translated, original "
        "(a template sent in its English original), off (translate_prompt was false), not_translated_demo (no "
        "translation in demo mode), failed (the translation was refused: nothing was sent).",
    )
    wait_notice = serializers.SerializerMethodField(help_text="Set when a phase lasts longer than usual.")

    class Meta:
        model = Generation
        fields = [
            "id",
            "model",
            "project",
            "prompt",
            "prompt_typed",
            "prompt_language",
            "translate_prompt",
            "prompt_translation",
            "num_outputs",
            "aspect_ratio",
            "seed",
            "guidance",
            "steps",
            "lora_scale",
            "output_format",
            "status",
            "error",
            "error_kind",
            "estimated_cost",
            "cost",
            "gpu_seconds",
            "simulated",
            "wait_notice",
            "images",
            "created_at",
            "started_at",
            "completed_at",
        ]

    def get_wait_notice(self, generation) -> str:
        return selectors.generation_wait_notice(generation=generation)


class GenerationCreateSerializer(serializers.Serializer):
    model = IdField(
        required=False, allow_null=True, help_text="A trained model's id (GET /models/); null for the base model."
    )
    prompt = serializers.CharField(
        help_text="In any language: translated to English before it is sent (unless translate_prompt is false). "
        "The trigger word is added when missing; it and any quoted text are kept as typed."
    )
    translate_prompt = serializers.BooleanField(
        default=True, help_text="Translate a prompt that is not in English to English before sending it."
    )
    num_outputs = serializers.IntegerField(min_value=1, max_value=4, default=services.DEFAULTS["num_outputs"])
    aspect_ratio = serializers.ChoiceField(
        choices=Generation.AspectRatio.choices, default=services.DEFAULTS["aspect_ratio"]
    )
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, allow_null=True)
    guidance = serializers.FloatField(min_value=0, max_value=10, default=services.DEFAULTS["guidance"])
    steps = serializers.IntegerField(min_value=1, max_value=50, default=services.DEFAULTS["steps"])
    lora_scale = serializers.FloatField(min_value=-1, max_value=3, default=services.DEFAULTS["lora_scale"])
    output_format = serializers.ChoiceField(
        choices=Generation.OutputFormat.choices, default=services.DEFAULTS["output_format"]
    )

    def validate_model(self, value):
        if value is None:
            return None
        # A model of a project the user is a member of: generation_create refuses it with 403 when
        # their role may not generate; anyone else's is answered as a missing id.
        run = selectors.model_get_for_user(user=self.context["request"].user, run_id=value)
        if run is None:
            raise ValidationError(_("No trained model of yours has this id."))
        return run


class GenerationFilters(QueryFilters):
    model = IdField(required=False, help_text="Only this trained model's")
    project = IdField(required=False, help_text="Only this project's")


@extend_schema_view(
    get=extend_schema(summary="Your generations, newest first, with their images", parameters=[GenerationFilters])
)
class GenerationListCreateView(ListAPIView):
    serializer_class = GenerationSerializer

    def get_queryset(self):
        filters = query_filters(GenerationFilters, self.request)
        return selectors.generation_list_for_user(
            user=self.request.user, run_id=filters.get("model"), project_id=filters.get("project")
        )

    @extend_schema(request=GenerationCreateSerializer, responses={201: GenerationSerializer}, summary="Generate images")
    @rate_limit("generation_create", key=by_user)
    def post(self, request):
        data = GenerationCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        run = fields.pop("model", None)
        generation = services.generation_create(user=request.user, training_run=run, **fields)
        generation = selectors.generation_get_for_user(user=request.user, generation_id=generation.id)
        return Response(GenerationSerializer(generation, context={"request": request}).data, status=201)


class GenerationDetailView(APIView):
    @extend_schema(responses=GenerationSerializer, summary="One generation, with image URLs")
    def get(self, request, generation_id: int):
        generation = selectors.generation_get_for_user(user=request.user, generation_id=generation_id)
        return Response(GenerationSerializer(generation, context={"request": request}).data)


class GenerationCancelView(APIView):
    @extend_schema(
        request=None, responses={200: GenerationSerializer, 503: PROVIDER_UNAVAILABLE}, summary="Cancel a generation"
    )
    def post(self, request, generation_id: int):
        generation = selectors.generation_get_for_user(user=request.user, generation_id=generation_id)
        if not selectors.generation_can_cancel(user=request.user, generation=generation):
            raise PermissionDenied  # its starter or the project's owner
        services.generation_cancel(generation=generation, actor=request.user)
        generation = selectors.generation_get_for_user(user=request.user, generation_id=generation_id)
        return Response(GenerationSerializer(generation, context={"request": request}).data)


class GeneratedImageFilters(QueryFilters):
    model = IdField(required=False, help_text="Only this trained model's")
    project = IdField(required=False, help_text="Only this project's")
    favourite = serializers.BooleanField(default=False, help_text="Only favourites")
    sort = serializers.ChoiceField(
        choices=list(selectors.IMAGE_SORTS), default="newest", help_text="Newest first, or most like the person first"
    )


@extend_schema_view(get=extend_schema(summary="Your generated images", parameters=[GeneratedImageFilters]))
class GeneratedImageListView(ListAPIView):
    serializer_class = GeneratedImageSerializer

    def get_queryset(self):
        filters = query_filters(GeneratedImageFilters, self.request)
        return selectors.image_list_for_user(
            user=self.request.user,
            run_id=filters.get("model"),
            project_id=filters.get("project"),
            favourites=filters["favourite"],
            sort=filters["sort"],
        )


class GeneratedImageDetailView(APIView):
    @extend_schema(responses=GeneratedImageSerializer, summary="One generated image")
    def get(self, request, image_id: int):
        image = selectors.image_get_for_user(user=request.user, image_id=image_id)
        return Response(GeneratedImageSerializer(image, context={"request": request}).data)

    @extend_schema(request=GeneratedImageSerializer, responses=GeneratedImageSerializer, summary="Favourite or not")
    def patch(self, request, image_id: int):
        image = selectors.image_get_for_user(user=request.user, image_id=image_id, capability=Can.EDIT)
        data = GeneratedImageSerializer(image, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "favourite" in data.validated_data:
            services.image_set_favourite(image=image, favourite=data.validated_data["favourite"])
        return Response(GeneratedImageSerializer(image, context={"request": request}).data)

    @extend_schema(
        responses={204: None},
        summary="Move a generated image to the trash",
        description="The image leaves the gallery, its job and the library at once; it stays restorable for "
        "TRASH_RETENTION_DAYS (30 by default) at `POST /api/v1/library/trash/images/{id}/restore/`, then it and "
        "its files are purged. `DELETE /api/v1/library/trash/images/{id}/` deletes it for good now.",
    )
    def delete(self, request, image_id: int):
        image = selectors.image_get_for_user(user=request.user, image_id=image_id, capability=Can.EDIT)
        services.image_trash(image=image, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GeneratedImageFileView(APIView):
    """A generated image or its thumbnail, for its owner (session or bearer token) and operators."""

    @extend_schema(exclude=True)
    def get(self, request, image_id: int, variant: str):
        if variant not in ("file", "thumbnail"):
            raise Http404
        image = selectors.image_get_for_viewer(user=request.user, image_id=image_id)
        field = image.file if variant == "file" else image.thumbnail
        response = FileResponse(
            open_stored(field.name),
            content_type=(
                content_type_for(PIL_FORMATS.get(image.format), "image/webp") if variant == "file" else "image/webp"
            ),
        )
        response["Cache-Control"] = "private, max-age=300"
        return response
