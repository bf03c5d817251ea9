"""Projects: create, edit, delete, and their draft/ready/training status."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from accounts.models import User
from core.exceptions import Refusal
from core.storage import storage_delete_files, storage_files_of
from projects import readiness, selectors
from projects.events import event_record
from projects.models import Photo, Project, ProjectEvent
from projects.tasks import analyse_faces

logger = logging.getLogger(__name__)


class ProjectError(Refusal):
    """A request we refuse, with a message for the user."""


def _check_trigger_word_free(*, owner: User, trigger_word: str, exclude_id: int | None = None) -> None:
    clash = Project.objects.filter(owner=owner, trigger_word__iexact=trigger_word)
    if exclude_id is not None:
        clash = clash.exclude(id=exclude_id)
    if clash.exists():
        raise ProjectError(_trigger_word_taken(trigger_word), field="trigger_word")


def _trigger_word_taken(trigger_word: str) -> str:
    return gettext("You already use the trigger word “%(word)s” in another project.") % {"word": trigger_word}


def project_create(
    *, owner: User, name: str, category: str, subject_description: str = "", trigger_word: str = ""
) -> Project:
    trigger_word = trigger_word.strip() or selectors.project_new_trigger_word(owner=owner, name=name)
    _check_trigger_word_free(owner=owner, trigger_word=trigger_word)
    project = Project(
        owner=owner,
        name=name.strip(),
        category=category,
        subject_description=subject_description.strip(),
        trigger_word=trigger_word,
    )
    project.full_clean()
    try:
        project.save()  # its owner's membership comes with it (projects/receivers.py)
    except IntegrityError as exc:  # a concurrent create took the same word
        raise ProjectError(_trigger_word_taken(trigger_word), field="trigger_word") from exc
    return project


def project_update(*, project: Project, actor: User | None = None, **fields) -> Project:
    """Change name, category, subject description or trigger word; the activity feed names `actor`
    when something did change."""
    allowed = {"name", "category", "subject_description", "trigger_word"}
    if set(fields) - allowed:
        raise ValueError(f"Cannot update {set(fields) - allowed}")
    category_changed = fields.get("category", project.category) != project.category
    if "trigger_word" in fields:
        fields["trigger_word"] = fields["trigger_word"].strip()
        _check_trigger_word_free(owner=project.owner, trigger_word=fields["trigger_word"], exclude_id=project.id)
    changed = []
    for name, value in fields.items():
        value = value.strip() if isinstance(value, str) else value
        if getattr(project, name) != value:
            changed.append(name)
        setattr(project, name, value)
    project.full_clean()
    with transaction.atomic():
        project.save()
        if changed:
            # The names of the fields that changed, never their (user-written) values.
            event_record(project_id=project.id, kind=ProjectEvent.Kind.PROJECT_CHANGED, actor=actor, fields=changed)
        if category_changed:
            # Face checks apply to person projects only; photos processed as another category lack them.
            for photo_id in project.photos.filter(status=Photo.Status.READY, trashed_at__isnull=True).values_list(
                "id", flat=True
            ):
                analyse_faces.delay_on_commit(photo_id)
        project_refresh_status(project_id=project.id)
    return project


def project_delete(*, project: Project) -> None:
    """Delete the project and all that hangs on it (photos, models, images…) and, once that is
    committed, every stored file of those rows."""
    with transaction.atomic():
        names = storage_files_of(instances=[project])
        project.delete()
        storage_delete_files(names=names)


@contextmanager
def _photos_changing(project_id: int) -> Iterator[None]:
    """A change to a project's photos commits together with the project's draft/ready status.

    Apart, a worker killed between the two would leave the status stale (a ready project that
    cannot train). The project row's lock makes concurrent changes see each other's photos.
    """
    with transaction.atomic():
        Project.objects.select_for_update().filter(id=project_id).first()
        yield
        project_refresh_status(project_id=project_id)


def project_refresh_status(*, project_id: int) -> None:
    """Set draft/ready from the readiness report; training states are left alone."""
    project = Project.objects.filter(id=project_id).first()
    if project is None or project.status not in (Project.Status.DRAFT, Project.Status.READY):
        return
    report = readiness.report_for(project=project, photos=list(project.photos.filter(trashed_at__isnull=True)))
    status = Project.Status.READY if report.ready else Project.Status.DRAFT
    changed = (
        Project.objects.filter(id=project_id, status__in=[Project.Status.DRAFT, Project.Status.READY])
        .exclude(status=status)
        .update(status=status)
    )
    if changed:
        event_record(project_id=project_id, kind=ProjectEvent.Kind.READINESS_CHANGED, status=status)


def project_mark_training(*, project_id: int) -> None:
    """A run has started: the project is training (in the caller's transaction)."""
    Project.objects.filter(id=project_id).update(status=Project.Status.TRAINING)


def project_release(*, project_id: int, trained: bool) -> None:
    """A run has ended: trained when it has a model, else back to draft/ready (only if still training)."""
    if trained:
        Project.objects.filter(id=project_id).update(status=Project.Status.TRAINED)
        return
    Project.objects.filter(id=project_id, status=Project.Status.TRAINING).update(status=Project.Status.DRAFT)
    project_refresh_status(project_id=project_id)
