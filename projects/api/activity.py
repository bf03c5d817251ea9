"""GET /api/v1/projects/{id}/activity/: the project's activity feed, newest first, older pages by
event id (`?before=`)."""

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from projects import selectors
from projects.access import Can
from projects.activity import Entry, activity_entries

PAGE_SIZE = 30


class ActivityActorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ActivityEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="What happened (ProjectEvent.Kind).")
    actor = ActivityActorSerializer(
        allow_null=True, help_text="Who did it; null for PhotoAgent itself or a deleted account."
    )
    subject = serializers.JSONField(help_text='Ids and short codes of what changed, e.g. {"photo": 12}.')
    created_at = serializers.DateTimeField()
    text = serializers.CharField(help_text="The entry as a sentence, in the request's language.")

    def to_representation(self, instance: Entry):
        actor = instance.actor
        return {
            "id": instance.id,
            "kind": instance.kind,
            "actor": {"id": actor.id, "name": instance.actor_name} if actor is not None else None,
            "subject": instance.event.subject,
            "created_at": serializers.DateTimeField().to_representation(instance.created_at),
            "text": instance.text,
        }


class ProjectActivityView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "before", int, description="Only entries older than this entry id (the `next` link carries it)."
            )
        ],
        responses=inline_serializer(
            "ActivityPage",
            {
                "next": serializers.URLField(allow_null=True, help_text="The older page, null on the last one."),
                "results": ActivityEntrySerializer(many=True),
            },
        ),
        summary="A project's activity feed",
        description="Who uploaded, described, deleted, trained, generated, invited, joined…, newest first, "
        f"{PAGE_SIZE} a page. Every member may read it; anyone else gets 404.",
    )
    def get(self, request, project_pk: int):
        project = selectors.project_get_for_user(user=request.user, project_id=project_pk, capability=Can.VIEW)
        before = self._before(request.query_params.get("before"))
        events = selectors.project_activity(project=project, before_id=before, limit=PAGE_SIZE + 1)
        page = events[:PAGE_SIZE]
        next_url = None
        if len(events) > PAGE_SIZE:
            next_url = request.build_absolute_uri(f"{request.path}?before={page[-1].id}")
        entries = activity_entries(project=project, events=page)
        return Response({"next": next_url, "results": ActivityEntrySerializer(entries, many=True).data})

    @staticmethod
    def _before(value: str | None) -> int | None:
        if value in (None, ""):
            return None
        try:
            before = int(value)
        except ValueError:
            before = 0
        if before < 1:
            raise ValidationError({"before": [gettext("Give the id of an activity entry (a positive whole number).")]})
        return before
