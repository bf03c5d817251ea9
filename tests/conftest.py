import re

import pytest

from accounts import services as account_services
from generation import services as generation_services
from generation.models import GeneratedImage, Generation
from generation.tests.factories import trained_model
from library import services as library_services
from library.models import AlbumSuggestion, LibraryItem, ShareLink
from projects import services as project_services
from projects.models import Invitation, Membership, Photo, Role
from projects.tests.factories import MembershipFactory
from training.models import TrainingRun


@pytest.fixture
def owned(settings, run_on_commit):
    """One of everything, owned by one user: `ids` by URL parameter name, and an API token `secret`.

    The project also has an editor, a viewer and a second viewer (`member`, whom the owner's member
    controls point at), and a photo and an image in the trash (`trashed`, the ids the trash's URLs
    take)."""
    settings.PHOTO_MIN_SIDE = 256
    settings.GENERATION_BACKEND = settings.GENERATION_BASE_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.DEMO_GENERATION_SECONDS = 0
    run = trained_model(photos=["coffee.jpg", "astronaut.jpg"])
    owner = run.project.owner
    with run_on_commit():
        generation = generation_services.generation_create(user=owner, training_run=run, prompt="x", num_outputs=3)
    image = generation.images.order_by("index").first()
    items = list(LibraryItem.objects.filter(user=owner).order_by("id"))
    album = library_services.album_create(user=owner, name="Trip", item_ids=[item.id for item in items[:2]])
    suggestion = AlbumSuggestion.objects.create(user=owner, title="Mugs", key="k1")
    suggestion.items.set(items[:2])
    share = library_services.share_create(user=owner, generated_image=image)
    token, secret = account_services.api_token_create(user=owner, name="cli")
    photo, trashed_photo = Photo.objects.filter(project=run.project).order_by("id")[:2]
    project_services.photo_trash(photo=trashed_photo)
    trashed_image = generation.images.order_by("index").last()
    generation_services.image_trash(image=trashed_image)
    members = {role: MembershipFactory(project=run.project, role=role).user for role in (Role.EDITOR, Role.VIEWER)}
    member = MembershipFactory(project=run.project, role=Role.VIEWER).user
    invitation = project_services.invitation_create(
        actor=owner, project=run.project, email="invited@example.com", role="editor"
    )
    return {
        "owner": owner,
        "editor": members[Role.EDITOR],
        "viewer": members[Role.VIEWER],
        "member": member,
        "secret": secret,
        "ids": {
            "project_id": run.project_id,
            "project_pk": run.project_id,
            "photo_id": photo.id,
            "run_id": run.id,
            "generation_id": generation.id,
            "image_id": image.id,
            "item_id": items[0].id,
            "album_id": album.id,
            "suggestion_id": suggestion.id,
            "share_id": share.id,
            "token_id": token.id,
            "user_id": member.id,
            "invitation_id": invitation.id,
            "variant": "thumbnail",
        },
        "trashed": {"photo_id": trashed_photo.id, "image_id": trashed_image.id},
        # `pk` names a different object on each route.
        "pk": {
            "api/v1/projects/<id:pk>/": run.project_id,
            "api/v1/projects/<id:project_pk>/photos/<id:pk>/": photo.id,
        },
    }


def snapshot(owner) -> dict:
    """What another user, an anonymous visitor or a forged request must never change."""
    return {
        # A delete moves to the trash: the rows stay, their trashed_at changes.
        "photos": list(Photo.objects.filter(project__owner=owner).values_list("id", "description", "trashed_at")),
        "projects": list(owner.projects.values_list("id", "name", "status")),
        "runs": list(TrainingRun.objects.filter(project__owner=owner).values_list("id", "status")),
        "generations": list(Generation.objects.filter(user=owner).values_list("status", flat=True)),
        "images": list(
            GeneratedImage.objects.filter(generation__user=owner).values_list("id", "favourite", "trashed_at")
        ),
        "items": LibraryItem.objects.filter(user=owner).count(),
        "albums": list(owner.albums.values_list("name", "cover_id")),
        "suggestions": list(AlbumSuggestion.objects.filter(user=owner).values_list("status", flat=True)),
        "shares": list(ShareLink.objects.filter(user=owner).values_list("revoked_at", flat=True)),
        "tokens": list(owner.api_tokens.values_list("name", "revoked_at")),
        "display_name": type(owner).objects.get(id=owner.id).display_name,
        "memberships": list(
            Membership.objects.filter(project__owner=owner).order_by("id").values_list("project_id", "user_id", "role")
        ),
        "invitations": list(
            Invitation.objects.filter(project__owner=owner)
            .order_by("id")
            .values_list("id", "role", "send_count", "revoked_at", "accepted_at", "declined_at")
        ),
    }


# `{id}` in the OpenAPI schema names a different object on each path.
SCHEMA_ID = {"/api/v1/projects/{id}/": "project_id", "/api/v1/projects/{project_pk}/photos/{id}/": "photo_id"}
# The trash's paths take the ids of what is in the trash.
TRASH_PATH = "/api/v1/library/trash/"


def schema_path_ids(path: str, owned: dict) -> dict:
    """The owner's ids for the parameters of an OpenAPI path such as /api/v1/albums/{album_id}/."""
    ids = {}
    for name in re.findall(r"\{(\w+)\}", path):
        kind = SCHEMA_ID[path] if name == "id" else name
        assert kind in owned["ids"], f"{path}: map the id kind {kind!r} in core/tests/conftest.py"
        ids[name] = owned["trashed"][kind] if path.startswith(TRASH_PATH) else owned["ids"][kind]
    return ids


@pytest.fixture
def asgi_live_server(transactional_db, settings):
    """photoagent.asgi served by uvicorn in a thread on a free port: HTTP and the live pages'
    WebSocket, as `make run` and production serve them. pytest-django's live_server is WSGI (no
    WebSockets). Its threads share this process's settings, so they use the test database: a file
    (photoagent/settings/test.py), which each thread opens itself, as a server's processes do."""
    import socket
    import threading
    import time
    from types import SimpleNamespace

    import uvicorn

    from photoagent.asgi import application

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            application, host="127.0.0.1", port=port, lifespan="off", log_level="warning", ws="websockets-sansio"
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(10)
    listener.close()
