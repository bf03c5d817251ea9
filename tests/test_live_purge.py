"""Old live-only events are purged by beat; the activity feed's events stay."""

from datetime import timedelta

from django.conf import settings as django_settings
from django.utils import timezone

from projects.models import ProjectEvent
from projects.tasks import purge_live_events
from projects.tests.factories import ProjectFactory


def test_live_only_events_past_the_retention_go_and_the_feed_and_recent_ones_stay(db, settings):
    settings.LIVE_EVENT_RETENTION_DAYS = 2
    project = ProjectFactory()
    old = timezone.now() - timedelta(days=3)
    stale = ProjectEvent.objects.create(project=project, kind=ProjectEvent.Kind.PHOTO_PROCESSED)
    feed = ProjectEvent.objects.create(project=project, kind=ProjectEvent.Kind.PHOTO_UPLOADED)
    ProjectEvent.objects.filter(id__in=[stale.id, feed.id]).update(created_at=old)
    recent = ProjectEvent.objects.create(project=project, kind=ProjectEvent.Kind.TRAINING_PROGRESS)

    purge_live_events.delay()

    assert set(ProjectEvent.objects.values_list("id", flat=True)) == {feed.id, recent.id}


def test_beat_runs_the_purge():
    assert "projects.purge_live_events" in {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
