"""The project activity: each change records its event once, with the change or not at all, and
members read the feed as sentences (project page section, activity page, API)."""

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import UserFactory
from projects import services
from projects.models import FEED_KINDS, Membership, ProjectEvent, Role
from projects.tests.factories import photo_upload

pytestmark = pytest.mark.django_db


def kinds(project, kind=None):
    events = ProjectEvent.objects.filter(project=project).order_by("id")
    if kind is not None:
        events = events.filter(kind=kind)
    return list(events)


def uploaded(project, actor=None, seed=1):
    return services.photo_upload(project=project, files=[photo_upload(seed)], actor=actor).accepted[0]


def member(project, role=Role.VIEWER, **fields):
    user = UserFactory(**fields)
    Membership.objects.create(project=project, user=user, role=role)
    return user


# Recording
# ------------------------------------------------------------------------------


def test_an_upload_records_who_uploaded_which_photo(project, owner):
    photo = uploaded(project, actor=owner)
    [event] = kinds(project, ProjectEvent.Kind.PHOTO_UPLOADED)
    assert event.actor == owner
    assert event.subject == {"photo": photo.id}


def test_a_rejected_upload_records_nothing(project, owner):
    uploaded(project, actor=owner)
    assert not services.photo_upload(project=project, files=[photo_upload(1)], actor=owner).accepted
    assert len(kinds(project, ProjectEvent.Kind.PHOTO_UPLOADED)) == 1


def test_processing_twice_records_one_processed_event_by_the_system(project, owner):
    photo = uploaded(project, actor=owner)
    services.photo_process(photo_id=photo.id)
    services.photo_process(photo_id=photo.id)
    [event] = kinds(project, ProjectEvent.Kind.PHOTO_PROCESSED)
    assert event.actor is None
    assert event.subject == {"photo": photo.id, "status": "ready"}


def test_a_description_records_an_event_only_when_it_changes(project, owner):
    photo = uploaded(project, actor=owner)
    services.photo_update_description(photo=photo, description="a blue mug", actor=owner)
    services.photo_update_description(photo=photo, description="a blue mug ", actor=owner)
    [event] = kinds(project, ProjectEvent.Kind.PHOTO_DESCRIBED)
    assert (event.actor, event.subject) == (owner, {"photo": photo.id})
    photo.refresh_from_db()
    assert photo.description == "a blue mug"


def test_trash_restore_and_delete_each_record_once(project, owner):
    photo = uploaded(project, actor=owner)
    photo_id = photo.id
    services.photo_trash(photo=photo, actor=owner)
    services.photo_trash(photo=photo, actor=owner)
    services.photo_restore(photo=photo, actor=owner)
    services.photo_restore(photo=photo, actor=owner)
    services.photo_delete(photo=photo, actor=owner)
    deleted = kinds(project, ProjectEvent.Kind.PHOTO_DELETED)
    assert [event.subject for event in deleted] == [
        {"photo": photo_id},
        {"photo": photo_id, "permanent": True, "trashed": False},
    ]
    assert len(kinds(project, ProjectEvent.Kind.PHOTO_RESTORED)) == 1


def test_changing_settings_names_the_fields_not_their_values(project, owner):
    services.project_update(project=project, actor=owner, name="Secret name", trigger_word=project.trigger_word)
    services.project_update(project=project, actor=owner, name="Secret name")
    [event] = kinds(project, ProjectEvent.Kind.PROJECT_CHANGED)
    assert event.subject == {"fields": ["name"]}
    assert "Secret" not in str(event.subject)


def test_readiness_records_only_actual_status_changes(project, owner, settings):
    settings.PROJECT_PHOTOS_MIN = 1
    photo = uploaded(project, actor=owner)
    services.photo_process(photo_id=photo.id)
    photo.refresh_from_db()
    services.photo_update_description(photo=photo, description="a blue mug on a table", actor=owner)
    services.project_refresh_status(project_id=project.id)
    project.refresh_from_db()
    ready = kinds(project, ProjectEvent.Kind.READINESS_CHANGED)
    assert project.status == "ready"
    assert [event.subject for event in ready] == [{"status": "ready"}]
    services.photo_trash(photo=photo, actor=owner)
    assert [event.subject for event in kinds(project, ProjectEvent.Kind.READINESS_CHANGED)][-1] == {"status": "draft"}


def test_a_write_that_rolls_back_records_no_event(project, owner):
    photo = uploaded(project, actor=owner)
    before = ProjectEvent.objects.count()

    def failing_request():
        with transaction.atomic():
            services.photo_trash(photo=photo, actor=owner)
            raise RuntimeError("the request failed after the write")

    with pytest.raises(RuntimeError):
        failing_request()
    assert ProjectEvent.objects.count() == before
    photo.refresh_from_db()
    assert photo.trashed_at is None


def test_an_event_is_published_only_after_commit(project, owner, django_capture_on_commit_callbacks, monkeypatch):
    published = []
    monkeypatch.setattr("core.live.publish", lambda **kwargs: published.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True):
        photo = uploaded(project, actor=owner)
        assert published == []
    event = kinds(project, ProjectEvent.Kind.PHOTO_UPLOADED)[0]
    assert {"project_id": project.id, "event_id": event.id} in published
    assert photo.id == event.subject["photo"]


# The feed
# ------------------------------------------------------------------------------


def test_the_project_page_shows_the_latest_activity_as_sentences_to_a_viewer(client, project, owner):
    owner.display_name = "Ana"
    owner.save()
    photo = uploaded(project, actor=owner)
    services.photo_update_description(photo=photo, description="a mug", actor=owner)
    viewer = member(project)
    client.force_login(viewer)
    page = client.get(reverse("projects:detail", args=[project.id])).content.decode()
    section = page[page.index('data-live-id="activity"') :]
    assert section.index("Ana described a photo.") < section.index("Ana uploaded a photo.")
    assert f'href="/projects/{project.id}/#photo-{photo.id}"' in section
    assert reverse("projects:activity", args=[project.id]) in section


def test_the_live_part_of_the_page_carries_the_activity_leaf(client, project, owner):
    uploaded(project, actor=owner)
    client.force_login(owner)
    live = client.get(reverse("projects:live", args=[project.id])).content.decode()
    assert 'data-live-id="activity"' in live
    assert "uploaded a photo." in live


def test_a_deleted_photo_is_named_without_a_link_and_a_gone_actor_reads_sensibly(client, project, owner):
    editor = member(project, role=Role.EDITOR, display_name="Bo")
    photo = uploaded(project, actor=editor)
    services.photo_trash(photo=photo, actor=editor)
    processed_by_system = ProjectEvent.objects.create(
        project=project, kind=ProjectEvent.Kind.TRAINING_ENDED, subject={"run": 9, "status": "failed"}
    )
    editor.delete()
    client.force_login(owner)
    page = client.get(reverse("projects:activity", args=[project.id])).content.decode()
    assert "Someone moved a photo to the trash." in page
    assert "Someone uploaded a photo." in page
    assert "PhotoAgent stopped training run #9: it failed." in page
    assert f"#photo-{photo.id}" not in page
    assert processed_by_system.id


def test_the_feed_lists_feed_kinds_only_newest_first_with_exact_times(client, project, owner):
    photo = uploaded(project, actor=owner)
    services.photo_process(photo_id=photo.id)  # not a feed kind
    client.force_login(owner)
    response = client.get(reverse("projects:activity", args=[project.id]))
    entries = response.context["entries"]
    assert [entry.kind for entry in entries] == ["photo_uploaded"]
    assert all(entry.kind in FEED_KINDS for entry in entries)
    html = response.content.decode()
    assert "<time" in html
    assert 'title="' in html
    assert "now" in html


def test_the_feed_is_translated(client, project, owner):
    uploaded(project, actor=owner)
    client.force_login(owner)
    with translation.override("de"):
        response = client.get(reverse("projects:activity", args=[project.id]), HTTP_ACCEPT_LANGUAGE="de")
    entry = response.context["entries"][0]
    assert entry.text != f"{owner.get_short_name()} uploaded a photo."


def test_a_non_member_gets_404_on_the_activity_page_and_api(client, project, owner):
    uploaded(project, actor=owner)
    client.force_login(UserFactory())
    assert client.get(reverse("projects:activity", args=[project.id])).status_code == 404
    assert client.get(f"/api/v1/projects/{project.id}/activity/").status_code == 404


def test_older_pages_go_by_event_id(client, project, owner):
    events = [
        ProjectEvent.objects.create(
            project=project, actor=owner, kind=ProjectEvent.Kind.PHOTO_UPLOADED, subject={"photo": n}
        )
        for n in range(35)
    ]
    client.force_login(owner)
    first = client.get(reverse("projects:activity", args=[project.id]))
    assert [entry.id for entry in first.context["entries"]] == [event.id for event in reversed(events)][:30]
    older = first.context["older"]
    assert older == events[5].id
    assert f"?before={older}" in first.content.decode()
    second = client.get(reverse("projects:activity", args=[project.id]), {"before": older})
    assert [entry.id for entry in second.context["entries"]] == [event.id for event in reversed(events[:5])]
    assert second.context["older"] is None
    # A nonsense cursor shows the newest page rather than an error.
    assert client.get(reverse("projects:activity", args=[project.id]), {"before": "x"}).status_code == 200


def test_the_activity_page_costs_the_same_queries_for_3_or_30_entries(client, project, owner):
    def create(count):
        for n in range(count):
            photo = uploaded(
                project, actor=member(project, role=Role.EDITOR), seed=100 + n + ProjectEvent.objects.count()
            )
            ProjectEvent.objects.create(
                project=project,
                kind=ProjectEvent.Kind.MEMBER_JOINED,
                actor=photo.project.owner,
                subject={"user": owner.id, "role": "editor"},
            )

    client.force_login(owner)
    url = reverse("projects:activity", args=[project.id])
    create(2)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    create(13)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["entries"]) == 30
    assert len(many) == len(few)


def test_the_activity_page_query_count_is_pinned(client, project, owner, django_assert_num_queries):
    uploaded(project, actor=owner)
    client.force_login(owner)
    # session + user, the project with the reader's role, the events with their actors, the photo links.
    with django_assert_num_queries(5):
        client.get(reverse("projects:activity", args=[project.id]))


# API
# ------------------------------------------------------------------------------


def test_the_api_lists_entries_with_actor_subject_and_text(client, project, owner):
    owner.display_name = "Ana"
    owner.save()
    photo = uploaded(project, actor=owner)
    viewer = member(project)
    client.force_login(viewer)
    body = client.get(f"/api/v1/projects/{project.id}/activity/").json()
    assert body["next"] is None
    [entry] = body["results"]
    assert entry["kind"] == "photo_uploaded"
    assert entry["actor"] == {"id": owner.id, "name": "Ana"}
    assert entry["subject"] == {"photo": photo.id}
    assert entry["text"] == "Ana uploaded a photo."
    assert entry["created_at"]


def test_the_api_pages_by_before_and_refuses_a_bad_cursor(client, project, owner):
    for n in range(31):
        ProjectEvent.objects.create(
            project=project, kind=ProjectEvent.Kind.TRAINING_ENDED, subject={"run": n, "status": "succeeded"}
        )
    client.force_login(owner)
    first = client.get(f"/api/v1/projects/{project.id}/activity/").json()
    assert len(first["results"]) == 30
    assert first["results"][0]["actor"] is None
    assert first["next"].endswith(f"?before={first['results'][-1]['id']}")
    second = client.get(first["next"]).json()
    assert [entry["subject"]["run"] for entry in second["results"]] == [0]
    assert second["next"] is None
    bad = client.get(f"/api/v1/projects/{project.id}/activity/", {"before": "-3"})
    assert bad.status_code == 400
    assert "before" in bad.json()["errors"] if "errors" in bad.json() else "before" in str(bad.json())


def test_the_activity_endpoint_is_in_the_schema(client, owner):
    client.force_login(owner)
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    assert "/api/v1/projects/{project_pk}/activity/" in schema["paths"]
    assert settings.LANGUAGE_CODE


def test_member_events_name_the_member_and_the_role(client, project, owner):
    owner.display_name = "Ana"
    owner.save()
    bo = member(project, role=Role.EDITOR, display_name="Bo")
    ProjectEvent.objects.create(
        project=project,
        actor=owner,
        kind=ProjectEvent.Kind.MEMBER_ROLE_CHANGED,
        subject={"user": bo.id, "role": "editor"},
    )
    ProjectEvent.objects.create(project=project, actor=bo, kind=ProjectEvent.Kind.MEMBER_LEFT, subject={"user": bo.id})
    client.force_login(owner)
    texts = [entry.text for entry in client.get(reverse("projects:activity", args=[project.id])).context["entries"]]
    assert texts == ["Bo left the project.", "Ana changed the role of Bo to Editor."]
