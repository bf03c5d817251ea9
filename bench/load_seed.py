"""Seed data for `make load`: N users, each with a trained (demo) model, photos, images and a library.

One template user is built through the apps' own services, with Celery eager in this process, so
every row and file is what the product makes: photos uploaded and processed, a demo training run
with its LoRA, demo generations drawn and stored, every library item analysed and embedded, albums
and a share link. The other users get copies of those rows (bulk inserts, new keys and tokens)
that point at the template's stored files: reading a file checks the row's owner, not the path,
so their pages and files behave as their own, and seeding 20 users takes seconds, not minutes.
"""

import random
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

PASSWORD = "load-bench correct horse"
PHOTOS_TRAINED = 15
PHOTOS_DRAFT = 6
PROMPTS = [
    "TRIGGER on a wooden kitchen table, morning light, lifestyle photography",
    "a product photo of TRIGGER on a seamless white background, soft shadow",
    "a flat lay of TRIGGER with props on a pastel background, top-down",
    "TRIGGER on a rock by a mountain lake, natural light, advertising photo",
    "a hero shot of TRIGGER, dark background, rim light, reflections",
    "TRIGGER on a cafe terrace in Lisbon, sunny afternoon, shallow depth of field",
    "TRIGGER in the snow at dusk, warm window light behind",
    "TRIGGER on a marble bathroom shelf with eucalyptus, soft daylight",
    "TRIGGER beside a laptop on a desk, blue hour, city lights",
    "TRIGGER on a picnic blanket in a meadow, golden hour",
    "TRIGGER on a concrete ledge, brutalist architecture, hard shadows",
    "TRIGGER on a beach towel by the sea, bright midday sun",
]
BASE_PROMPTS = [
    "a lighthouse on a cliff at dusk, dramatic clouds",
    "a bowl of ramen on a dark wooden counter, steam, neon reflections",
]
DESCRIPTIONS = [
    "a blue ceramic mug on a wooden table",
    "the mug held in two hands, close up",
    "the mug on a white shelf beside books",
    "a mug of coffee with latte art, top-down",
    "the mug on a windowsill in morning light",
    "the mug on a picnic blanket outdoors",
]


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    model_id: int  # the trained model (training run) generations use
    upload_project_id: int  # a draft project with room for more photos


def _scene_files(count: int, first_seed: int, size=(1100, 1000)) -> list:
    from projects.tests.factories import photo_upload

    return [photo_upload(first_seed + index, size=size) for index in range(count)]


def _add_photos(project, *, count: int, first_seed: int) -> None:
    """Upload, describe and (on commit, eagerly) process and analyse the photos, once each."""
    from projects import services as project_services
    from projects.models import Photo

    with transaction.atomic():
        accepted = project_services.photo_upload(project=project, files=_scene_files(count, first_seed)).accepted
        for index, photo in enumerate(accepted):
            Photo.objects.filter(id=photo.id).update(description=DESCRIPTIONS[index % len(DESCRIPTIONS)])


def _template(say) -> Account:
    from accounts.models import User
    from generation import services as generation_services
    from generation.models import GeneratedImage
    from generation.tests.factories import trained_model
    from library import services as library_services
    from library.models import LibraryItem
    from projects import services as project_services
    from projects.models import Project

    user = User.objects.create_user(
        "load-0@bench.invalid", password=PASSWORD, display_name="Load 0", email_verified_at=timezone.now()
    )
    run = trained_model(owner=user)
    Project.objects.filter(id=run.project_id).update(name="Ceramic mug", subject_description="our blue ceramic mug")
    _add_photos(run.project, count=PHOTOS_TRAINED, first_seed=0)
    say(f"seed: template photos done ({PHOTOS_TRAINED} processed and analysed)")
    draft = project_services.project_create(owner=user, name="Leather bag", category=Project.Category.PRODUCT)
    _add_photos(draft, count=PHOTOS_DRAFT, first_seed=100)

    rng = random.Random(7)  # noqa: S311 - which images are favourites
    for index, prompt in enumerate(PROMPTS):
        generation_services.generation_create(
            user=user,
            training_run=run,
            prompt=prompt.replace("TRIGGER", run.trigger_word),
            num_outputs=4,
            seed=1000 + index,
            output_format=rng.choice(["webp", "jpg"]),
        )
    for index, prompt in enumerate(BASE_PROMPTS):
        generation_services.generation_create(user=user, training_run=None, prompt=prompt, num_outputs=2, seed=index)
    images = list(GeneratedImage.objects.filter(generation__user=user).order_by("id"))
    for image in rng.sample(images, k=len(images) // 5):
        generation_services.image_set_favourite(image=image, favourite=True)
    say(f"seed: template images done ({len(images)} drawn, stored and analysed)")

    items = list(LibraryItem.objects.filter(user=user).order_by("id").values_list("id", flat=True))
    for number, name in enumerate(["Kitchen shots", "Outdoors", "Best of"]):
        library_services.album_create(user=user, name=name, item_ids=items[number * 8 : number * 8 + 12])
    library_services.share_create(user=user, generated_image=images[0], expires_in_days=30)
    return Account(email=user.email, password=PASSWORD, model_id=run.id, upload_project_id=draft.id)


def _copy(queryset, **remap) -> dict[int, int]:
    """Insert copies of the rows with some fields changed; {old id: new id}."""
    rows = list(queryset.order_by("id"))
    old_ids = [row.id for row in rows]
    for row in rows:
        row.pk = None
        for name, change in remap.items():
            setattr(row, name, change(row) if callable(change) else change)
    queryset.model.objects.bulk_create(rows)
    return dict(zip(old_ids, (row.id for row in rows), strict=True))


def _clone(template_user, number: int, template: Account) -> Account:
    from accounts.models import User
    from generation.models import GeneratedImage, Generation
    from library.models import Album, AlbumItem, LibraryItem, ShareLink, new_share_token
    from projects.models import Membership, Photo, Project, Role
    from training.models import TrainingRun

    user = User.objects.create(
        email=f"load-{number}@bench.invalid",
        password=template_user.password,  # the same password, hashed once
        display_name=f"Load {number}",
        email_verified_at=timezone.now(),
    )
    projects = _copy(Project.objects.filter(owner=template_user), owner_id=user.id)
    # bulk_create sends no post_save, so the owner memberships (projects/receivers.py) come here:
    # without them every copied project is another person's (404).
    Membership.objects.bulk_create(
        Membership(project_id=project_id, user=user, role=Role.OWNER) for project_id in projects.values()
    )
    photos = _copy(
        Photo.objects.filter(project__owner=template_user),
        project_id=lambda row: projects[row.project_id],
        key=lambda row: uuid.uuid4(),
        near_duplicate_of_id=None,
    )
    runs = _copy(
        TrainingRun.objects.filter(project__owner=template_user),
        project_id=lambda row: projects[row.project_id],
        provider_training_id=None,
    )
    generations = _copy(
        Generation.objects.filter(user=template_user),
        user_id=user.id,
        training_run_id=lambda row: runs.get(row.training_run_id),
        project_id=lambda row: projects.get(row.project_id),
        provider_id=lambda row: f"{row.provider_id}-copy-{number}" if row.provider_id else None,
    )
    images = _copy(
        GeneratedImage.objects.filter(generation__user=template_user),
        generation_id=lambda row: generations[row.generation_id],
    )
    items = _copy(
        LibraryItem.objects.filter(user=template_user),
        user_id=user.id,
        photo_id=lambda row: photos.get(row.photo_id),
        generated_image_id=lambda row: images.get(row.generated_image_id),
        project_id=lambda row: projects.get(row.project_id),
    )
    albums = _copy(
        Album.objects.filter(user=template_user), user_id=user.id, cover_id=lambda row: items.get(row.cover_id)
    )
    _copy(
        AlbumItem.objects.filter(album__user=template_user),
        album_id=lambda row: albums[row.album_id],
        item_id=lambda row: items[row.item_id],
    )
    _copy(
        ShareLink.objects.filter(user=template_user),
        user_id=user.id,
        token=lambda row: new_share_token(),
        generated_image_id=lambda row: images.get(row.generated_image_id),
        album_id=lambda row: albums.get(row.album_id),
    )
    return Account(
        email=user.email,
        password=PASSWORD,
        model_id=runs[template.model_id],
        upload_project_id=projects[template.upload_project_id],
    )


def seed(*, users: int, say) -> list[Account]:
    from accounts.models import User
    from photoagent.celery import app

    # Background work runs here and now, so the load starts on a quiet, fully analysed library.
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    demo_seconds = settings.DEMO_GENERATION_SECONDS
    settings.DEMO_GENERATION_SECONDS = 0
    try:
        template = _template(say)
    finally:
        app.conf.task_always_eager = False
        settings.DEMO_GENERATION_SECONDS = demo_seconds
    template_user = User.objects.get(email=template.email)
    accounts = [template]
    with transaction.atomic():
        for number in range(1, users):
            accounts.append(_clone(template_user, number, template))
    return accounts
