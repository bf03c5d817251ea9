from rest_framework import serializers

from projects import readiness, selectors
from projects.models import Photo, Project, Role, trigger_word_validator


class PhotoSerializer(serializers.ModelSerializer):
    urls = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = [
            "id",
            "original_filename",
            "status",
            "error",
            "description",
            "ai_caption",
            "format",
            "bytes",
            "width",
            "height",
            "sha256",
            "phash",
            "blur_score",
            "face_count",
            "near_duplicate_of",
            "created_at",
            "processed_at",
            "urls",
        ]
        read_only_fields = [name for name in fields if name != "description"]

    def get_urls(self, photo) -> dict[str, str]:
        request = self.context["request"]
        urls = {variant: selectors.photo_url(photo=photo, variant=variant) for variant in selectors.VARIANTS}
        return {variant: request.build_absolute_uri(url) if url else "" for variant, url in urls.items()}


class PhotoUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=500, allow_blank=True, trim_whitespace=True)


class PhotoUploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(allow_empty_file=True), allow_empty=False)


class RejectedFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    error = serializers.CharField()


class PhotoUploadResultSerializer(serializers.Serializer):
    accepted = PhotoSerializer(many=True)
    rejected = RejectedFileSerializer(many=True)


class CheckSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    level = serializers.ChoiceField(choices=readiness.LEVELS)
    message = serializers.CharField()
    fix = serializers.CharField()
    photo_ids = serializers.ListField(child=serializers.IntegerField())


class ReadinessSerializer(serializers.Serializer):
    ready = serializers.BooleanField()
    verdict = serializers.CharField()
    checks = CheckSerializer(many=True)


class ProjectSerializer(serializers.ModelSerializer):
    photo_count = serializers.IntegerField(read_only=True)
    role = serializers.ChoiceField(
        choices=Role.choices,
        read_only=True,
        help_text="Your role in this project: `owner` (everything, trainings are charged to them), `editor` "
        "(upload, describe and delete photos, generate) or `viewer` (read only).",
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "category",
            "subject_description",
            "trigger_word",
            "status",
            "role",
            "photo_count",
            "created_at",
            "updated_at",
        ]


class ProjectDetailSerializer(ProjectSerializer):
    readiness = serializers.SerializerMethodField()

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "readiness"]

    def get_readiness(self, project) -> ReadinessSerializer:
        return ReadinessSerializer(selectors.project_readiness(project=project).as_dict()).data


class ProjectInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    category = serializers.ChoiceField(choices=Project.Category.choices)
    subject_description = serializers.CharField(max_length=1000, allow_blank=True, required=False)
    trigger_word = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[trigger_word_validator]
    )
