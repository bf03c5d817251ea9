"""The project activity feed as people read it: each event (projects.models.ProjectEvent, kinds in
FEED_KINDS) as one translated sentence naming who did it, with a link to what it is about while
that still exists.

Events carry ids only, so the words are made here, when the feed is shown, in the reader's
language. The links of things the apps above own (runs, generation jobs, images) come from
resolvers those apps register from their AppConfig.ready() (projects may not import them). What
still exists, and the names of the members the events are about, are read in one query (a UNION
of every kind's), so a feed costs the same queries whatever its length and whatever it is about.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import CharField, QuerySet, Value
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext, ngettext, pgettext

from accounts.models import User
from projects import selectors
from projects.models import FEED_KINDS, Photo, Project, ProjectEvent, Role

# The name the feed gives the system (a worker, the provider ending a run).
SYSTEM_NAME = "PhotoAgent"

# Kinds only a person does: without an actor (their account deleted since, or an operator acting
# from the admin) the sentence says "Someone" rather than naming the system.
# The feed's kinds but the ends of runs and jobs, which the provider or a worker may bring about.
PERSON_KINDS = FEED_KINDS - {ProjectEvent.Kind.TRAINING_ENDED, ProjectEvent.Kind.GENERATION_ENDED}

# Which subject id an entry links to, first found first.
LINK_KEYS = ("image", "generation", "run", "photo")


@dataclass(frozen=True)
class Link:
    # (project, ids) -> the rows among them that still exist in the project (every member may see them)
    alive: Callable[[Project, set[int]], QuerySet]
    # (project, id) -> the address of its page
    url: Callable[[Project, int], str]


_links: dict[str, Link] = {}


def activity_link_register(*, key: str, link: Link) -> None:
    """Let the feed link the subject ids under `key` (e.g. "run"); registering it again replaces it."""
    _links[key] = link


def _alive_photos(project: Project, ids: set[int]) -> QuerySet:
    return Photo.objects.filter(project=project, id__in=ids, trashed_at__isnull=True)


def _photo_url(project: Project, photo_id: int) -> str:
    return reverse("projects:detail", kwargs={"project_id": project.id}) + f"#photo-{photo_id}"


activity_link_register(key="photo", link=Link(alive=_alive_photos, url=_photo_url))


@dataclass(frozen=True)
class Entry:
    event: ProjectEvent
    actor_name: str
    text: str
    url: str  # "" when the thing is gone (deleted, trashed) or has no page

    @property
    def id(self) -> int:
        return self.event.id

    @property
    def kind(self) -> str:
        return self.event.kind

    @property
    def created_at(self) -> datetime:
        return self.event.created_at

    @property
    def actor(self) -> User | None:
        return self.event.actor


def actor_name(event: ProjectEvent) -> str:
    if event.actor is not None:
        return event.actor.get_short_name()
    if event.kind in PERSON_KINDS:
        return pgettext("activity feed, an unknown person", "Someone")
    return SYSTEM_NAME


def _role_label(code) -> str:
    try:
        return str(Role(code).label)
    except ValueError:
        return ""


def _sentence(event: ProjectEvent, actor: str, members: dict[int, str]) -> str:  # noqa: C901, PLR0911, PLR0912
    """The sentence of one event, in the active language."""
    kind, subject = event.kind, event.subject or {}
    values = {
        "actor": actor,
        "run": subject.get("run", ""),
        "job": subject.get("generation", ""),
        "role": _role_label(subject.get("role")),
        "member": members.get(subject.get("user"), "") or pgettext("activity feed, a person", "someone"),
    }
    permanent = bool(subject.get("permanent"))
    status = subject.get("status")
    if kind == ProjectEvent.Kind.PHOTO_UPLOADED:
        text = gettext("%(actor)s uploaded a photo.")
    elif kind == ProjectEvent.Kind.PHOTO_DESCRIBED:
        text = gettext("%(actor)s described a photo.")
    elif kind == ProjectEvent.Kind.PHOTO_DELETED:
        text = (
            gettext("%(actor)s deleted a photo for good.")
            if permanent
            else gettext("%(actor)s moved a photo to the trash.")
        )
    elif kind == ProjectEvent.Kind.PHOTO_RESTORED:
        text = gettext("%(actor)s restored a photo from the trash.")
    elif kind == ProjectEvent.Kind.PROJECT_CHANGED:
        text = gettext("%(actor)s changed the project’s settings.")
    elif kind == ProjectEvent.Kind.TRAINING_STARTED:
        text = gettext("%(actor)s started training run #%(run)s.")
    elif kind == ProjectEvent.Kind.TRAINING_ENDED:
        if status == "succeeded":
            text = gettext("%(actor)s finished training run #%(run)s: the model is ready.")
        elif status == "canceled":
            text = gettext("%(actor)s canceled training run #%(run)s.")
        else:
            text = gettext("%(actor)s stopped training run #%(run)s: it failed.")
    elif kind == ProjectEvent.Kind.GENERATION_STARTED:
        text = gettext("%(actor)s started generation job #%(job)s.")
    elif kind == ProjectEvent.Kind.GENERATION_ENDED:
        if status == "succeeded":
            text = gettext("%(actor)s finished generation job #%(job)s.")
        elif status == "canceled":
            text = gettext("%(actor)s canceled generation job #%(job)s.")
        else:
            text = gettext("%(actor)s stopped generation job #%(job)s: it failed.")
    elif kind == ProjectEvent.Kind.IMAGE_DELETED:
        count = len(subject.get("images") or []) or 1
        values["count"] = count
        if permanent:
            text = ngettext(
                "%(actor)s deleted %(count)d image for good.", "%(actor)s deleted %(count)d images for good.", count
            )
        else:
            text = ngettext(
                "%(actor)s moved %(count)d image to the trash.", "%(actor)s moved %(count)d images to the trash.", count
            )
    elif kind == ProjectEvent.Kind.MEMBER_INVITED:
        if values["role"]:
            text = gettext("%(actor)s invited someone to join as %(role)s.")
        else:
            text = gettext("%(actor)s invited someone to join the project.")
    elif kind == ProjectEvent.Kind.INVITATION_REVOKED:
        text = gettext("%(actor)s revoked an invitation.")
    elif kind == ProjectEvent.Kind.MEMBER_JOINED:
        text = (
            gettext("%(actor)s joined the project as %(role)s.")
            if values["role"]
            else gettext("%(actor)s joined the project.")
        )
    elif kind == ProjectEvent.Kind.MEMBER_ROLE_CHANGED:
        if values["role"]:
            text = gettext("%(actor)s changed the role of %(member)s to %(role)s.")
        else:
            text = gettext("%(actor)s changed the role of %(member)s.")
    elif kind == ProjectEvent.Kind.MEMBER_REMOVED:
        text = gettext("%(actor)s removed %(member)s from the project.")
    elif kind == ProjectEvent.Kind.MEMBER_LEFT:
        text = gettext("%(actor)s left the project.")
    elif kind == ProjectEvent.Kind.OWNERSHIP_TRANSFERRED:
        text = gettext("%(actor)s made %(member)s the owner of the project.")
    else:
        values["what"] = event.get_kind_display()
        text = pgettext("activity feed: who, then what happened", "%(actor)s: %(what)s.")
    return text % values


def _subject_ids(events: Iterable[ProjectEvent], key: str) -> set[int]:
    ids = set()
    for event in events:
        value = (event.subject or {}).get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            ids.add(value)
    return ids


def _text(value: str) -> Value:
    return Value(value, output_field=CharField())


def _lookups(*, project: Project, events: list[ProjectEvent]) -> tuple[dict[str, dict[int, str]], dict[int, str]]:
    """({key: {id: url}} of what still exists, {user id: name} of the members named), in one query."""
    parts = []
    for key, link in _links.items():
        if ids := _subject_ids(events, key):
            parts.append(link.alive(project, ids).order_by().values_list(_text(key), "id", _text(""), _text("")))
    if user_ids := _subject_ids(events, "user"):
        parts.append(
            User.objects.filter(id__in=user_ids).order_by().values_list(_text("user"), "id", "display_name", "email")
        )
    links: dict[str, dict[int, str]] = {}
    members: dict[int, str] = {}
    if not parts:
        return links, members
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    for key, item_id, display_name, email in rows:
        if key == "user":
            members[item_id] = User(display_name=display_name, email=email).get_short_name()
        else:
            links.setdefault(key, {})[item_id] = _links[key].url(project, item_id)
    return links, members


def activity_entries(*, project: Project, events: list[ProjectEvent]) -> list[Entry]:
    """The feed's entries for these events (actor selected with them), in their order."""
    links, members = _lookups(project=project, events=events)
    entries = []
    for event in events:
        name = actor_name(event)
        url = next(
            (
                links.get(key, {}).get(event.subject.get(key), "")
                for key in LINK_KEYS
                if (event.subject or {}).get(key) is not None
            ),
            "",
        )
        entries.append(Entry(event=event, actor_name=name, text=_sentence(event, name, members), url=url))
    return entries


# The project page's "Activity" section (registered with projects.pages in ProjectsConfig.ready())
# ------------------------------------------------------------------------------

SECTION_ENTRIES = 10


def activity_section_context(*, request: HttpRequest, project: Project, page: Mapping[str, Any]) -> dict[str, Any]:
    """The latest entries of the feed, newest first."""
    events = selectors.project_activity(project=project, limit=SECTION_ENTRIES)
    return {"activity": activity_entries(project=project, events=events)}
