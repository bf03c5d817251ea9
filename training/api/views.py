from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.schema import PROVIDER_UNAVAILABLE
from projects import selectors as project_selectors
from projects.access import Can
from training import selectors, services
from training.models import TrainingRun


class TrainingRunSerializer(serializers.ModelSerializer):
    project = serializers.PrimaryKeyRelatedField(read_only=True)
    simulated = serializers.SerializerMethodField()
    wait_notice = serializers.SerializerMethodField(help_text="Set when a status lasts longer than usual.")

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "project",
            "status",
            "preset",
            "steps",
            "lora_rank",
            "learning_rate",
            "resolution",
            "trigger_word",
            "progress",
            "log_tail",
            "loss_points",
            "error",
            "error_kind",
            "estimated_cost",
            "estimated_minutes",
            "actual_cost",
            "gpu_seconds",
            "hf_repo_id",
            "hf_commit",
            "simulated",
            "wait_notice",
            "created_at",
            "submitted_at",
            "completed_at",
        ]

    def get_simulated(self, run) -> bool:
        return run.simulated

    def get_wait_notice(self, run) -> str:
        return selectors.run_wait_notice(run=run)


class TrainingStartSerializer(serializers.Serializer):
    preset = serializers.ChoiceField(choices=TrainingRun.Preset.choices, default=TrainingRun.Preset.BALANCED)


class TrainingStartView(APIView):
    @extend_schema(
        request=TrainingStartSerializer,
        responses={201: TrainingRunSerializer},
        summary="Start training a ready project",
        description="Only the project's owner may: the training is charged to the owner's limits "
        "(runs per day, monthly spend). Editors and viewers get 403.",
    )
    def post(self, request, project_pk: int):
        project = project_selectors.project_get_for_user(user=request.user, project_id=project_pk, capability=Can.TRAIN)
        data = TrainingStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.training_start(project=project, preset=data.validated_data["preset"], actor=request.user)
        return Response(TrainingRunSerializer(run).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="The training runs of every project you are a member of, newest first, with progress")
)
class TrainingRunListView(ListAPIView):
    serializer_class = TrainingRunSerializer

    def get_queryset(self):
        return selectors.run_list_for_user(user=self.request.user)


@extend_schema_view(
    get=extend_schema(
        summary="The trained models (succeeded runs) of every project you are a member of",
        description="A viewer sees them too; generating with one needs the editor or owner role.",
    )
)
class TrainedModelListView(TrainingRunListView):
    def get_queryset(self):
        return selectors.trained_models_for_user(user=self.request.user, capability=Can.VIEW)


class TrainingRunDetailView(APIView):
    @extend_schema(responses=TrainingRunSerializer, summary="One training run")
    def get(self, request, run_id: int):
        return Response(TrainingRunSerializer(selectors.run_get_for_user(user=request.user, run_id=run_id)).data)


class TrainingRunCancelView(APIView):
    @extend_schema(
        request=None, responses={200: TrainingRunSerializer, 503: PROVIDER_UNAVAILABLE}, summary="Cancel a training run"
    )
    def post(self, request, run_id: int):
        run = selectors.run_get_for_user(user=request.user, run_id=run_id, capability=Can.TRAIN)
        run = services.training_cancel(run=run, actor=request.user)
        return Response(TrainingRunSerializer(run).data)
