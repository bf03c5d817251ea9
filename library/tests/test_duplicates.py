"""Exact and near duplicates, kept apart and best first; "keep the best" trashes the others' sources."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageFilter

from accounts.tests.factories import UserFactory
from generation import selectors as generation_selectors
from generation import services as generation_services
from generation.models import GeneratedImage
from library import selectors as library_selectors
from library import services
from library.models import LibraryItem
from projects import services as project_services
from projects.models import Membership, Photo, Role
from projects.tests.factories import PHOTOS, ProjectFactory, encode, upload
from tests.support import messages_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]

ASTRONAUT = (PHOTOS / "astronaut.jpg").read_bytes()


def astronaut(change) -> bytes:
    """Another file of the same picture."""
    return encode(change(Image.open(io.BytesIO(ASTRONAUT)).convert("RGB")), quality=60)


def add_photo(project, content: bytes, run_on_commit, name="photo.jpg") -> LibraryItem:
    with run_on_commit():
        result = project_services.photo_upload(project=project, files=[upload(content, name)])
    assert result.accepted, result.rejected
    item = LibraryItem.objects.get(photo=result.accepted[0])
    assert item.status == LibraryItem.Status.DONE, item.error
    return item


def ids(group) -> list[int]:
    return [item.id for item in group.items]


@pytest.fixture
def library(owner, run_on_commit):
    """The same photo in two projects, a smaller recompressed copy in a third, and an unrelated photo."""
    first = add_photo(ProjectFactory(owner=owner), ASTRONAUT, run_on_commit, "astronaut.jpg")
    second = add_photo(ProjectFactory(owner=owner), ASTRONAUT, run_on_commit, "astronaut.jpg")
    small = add_photo(
        ProjectFactory(owner=owner), astronaut(lambda image: image.resize((400, 400))), run_on_commit, "small.jpg"
    )
    other = add_photo(ProjectFactory(owner=owner), (PHOTOS / "coffee.jpg").read_bytes(), run_on_commit, "coffee.jpg")
    return first, second, small, other


def test_exact_and_near_duplicates_are_kept_apart_best_first(client, owner, library):
    first, second, small, other = library
    found = library_selectors.duplicate_groups(user=owner)
    # The same file twice: the older copy first (they are equally sharp and large).
    assert [ids(group) for group in found.exact] == [[first.id, second.id]]
    # The smaller copy is another file: near, after the full-size original (shown once, with its twin).
    assert [ids(group) for group in found.near] == [[first.id, small.id]]
    assert found.near[0].copies == {first.id: [second]}
    assert other.id not in {item.id for group in [*found.exact, *found.near] for item in group.items}
    assert library_selectors.duplicate_groups(user=UserFactory()).exact == []

    client.force_login(owner)
    page = client.get("/library/duplicates/").content.decode()
    exact, near = page.split('id="near"')
    assert exact.count("/thumbnail/") == 2
    assert near.count("/thumbnail/") == 2
    assert page.count(">best<") == 2
    assert "512×512 px" in near
    assert "400×400 px" in near
    assert "+1 identical copy" in near
    confirm = 'data-confirm="Keep the best and move 1 other to the trash? You can restore it from Trash for 30 days."'
    assert confirm in exact
    assert confirm in near
    assert "/library/duplicates/" in client.get("/library/").content.decode()


def test_keep_the_best_moves_the_others_to_the_trash_with_their_files(client, owner, library, run_on_commit):
    first, second, small, other = library
    files = {item.id: Photo.objects.get(id=item.photo_id).file_names() for item in library}
    assert all(default_storage.exists(name) for names in files.values() for name in names)
    client.force_login(owner)

    with run_on_commit():
        response = client.post("/library/duplicates/keep-best/", {"items": [first.id, second.id]}, follow=True)
    assert [str(message) for message in response.context["messages"]] == [
        "Kept the best; 1 copy moved to trash — restore it from Trash within 30 days."
    ]
    assert Photo.objects.get(id=second.photo_id).trashed_at is not None
    assert second.id not in {item.id for item in library_selectors.item_list_for_user(user=owner)}
    found = library_selectors.duplicate_groups(user=owner)
    assert found.exact == []
    assert [ids(group) for group in found.near] == [[first.id, small.id]]

    with run_on_commit():
        client.post("/library/duplicates/keep-best/", {"items": [small.id, first.id]})
    shown = {item.id for item in library_selectors.item_list_for_user(user=owner)}
    assert shown == {first.id, other.id}
    # Nothing is deleted for good: every file is kept while its photo waits in the trash.
    assert all(default_storage.exists(name) for names in files.values() for name in names)
    assert library_selectors.duplicate_groups(user=owner).near == []


def test_a_sharper_copy_of_the_same_size_and_quality_is_the_best_and_the_others_go_with_their_twins(
    owner, run_on_commit
):
    plain = add_photo(ProjectFactory(owner=owner), astronaut(lambda image: image), run_on_commit, "plain.jpg")
    twin = add_photo(ProjectFactory(owner=owner), astronaut(lambda image: image), run_on_commit, "plain.jpg")
    small = add_photo(ProjectFactory(owner=owner), astronaut(lambda image: image.resize((400, 400))), run_on_commit)
    sharper = add_photo(
        ProjectFactory(owner=owner), astronaut(lambda image: image.filter(ImageFilter.SHARPEN)), run_on_commit
    )
    assert sharper.sharpness > plain.sharpness
    near = library_selectors.duplicate_groups(user=owner).near
    assert [ids(group) for group in near] == [[sharper.id, plain.id, small.id]]

    with run_on_commit():
        trashed = services.duplicates_keep_best(user=owner, item_ids=ids(near[0]))
    assert sorted(trashed) == sorted([plain.id, twin.id, small.id])
    assert (
        Photo.objects.filter(id__in=[plain.photo_id, twin.photo_id, small.photo_id], trashed_at__isnull=False).count()
        == 3
    )
    assert [item.id for item in library_selectors.item_list_for_user(user=owner)] == [sharper.id]


def test_generated_duplicates_are_moved_from_the_gallery_to_the_trash(owner, run_on_commit):
    images = []
    for _ in range(2):  # the same prompt and seed draw the same file
        with run_on_commit():
            generation = generation_services.generation_create(
                user=owner, training_run=None, prompt="a lighthouse on a cliff", num_outputs=1, seed=11
            )
        images.append(generation.images.get())
    keep, drop = (LibraryItem.objects.get(generated_image=image) for image in images)
    names = drop.generated_image.file_names()
    group = library_selectors.duplicate_groups(user=owner).exact[0]
    assert ids(group) == [keep.id, drop.id]

    with run_on_commit():
        assert services.duplicates_keep_best(user=owner, item_ids=ids(group)) == [drop.id]
    assert list(generation_selectors.image_list_for_user(user=owner)) == [keep.generated_image]
    assert GeneratedImage.objects.get(id=drop.generated_image_id).trashed_at is not None
    assert all(default_storage.exists(name) for name in names)


def test_keep_the_best_refuses_anything_but_a_current_group(client, owner, library):
    first, second, small, other = library
    stranger = UserFactory()
    for user, item_ids, message in [
        (owner, [first.id], "Pick a group of at least two duplicates."),
        (owner, [first.id, other.id], "These are no longer duplicates of one another; look at the list again."),
        (owner, [second.id, small.id], "These are no longer duplicates of one another; look at the list again."),
        (stranger, [first.id, second.id], "These are no longer duplicates of one another; look at the list again."),
        (owner, ["x", first.id], "Items are given by their numeric ids."),
    ]:
        with pytest.raises(services.DuplicateError, match=message):
            services.duplicates_keep_best(user=user, item_ids=item_ids)
    client.force_login(stranger)
    response = client.post("/library/duplicates/keep-best/", {"items": [first.id, second.id]}, follow=True)
    assert response.status_code == 200
    assert "look at the list again" in str(list(response.context["messages"])[0])
    assert "No exact duplicates." in response.content.decode()
    assert LibraryItem.objects.filter(user=owner).count() == 4


def test_the_duplicates_page_keeps_a_constant_query_count(
    client, owner, library, run_on_commit, django_assert_num_queries
):
    client.force_login(owner)
    with django_assert_num_queries(3):  # session, user, the items with their sources and projects
        page = client.get("/library/duplicates/").content.decode()
    assert page.count("/thumbnail/") == 4
    coffee = (PHOTOS / "coffee.jpg").read_bytes()
    add_photo(ProjectFactory(owner=owner), coffee, run_on_commit, "coffee.jpg")
    add_photo(ProjectFactory(owner=owner), astronaut(lambda image: image.resize((300, 300))), run_on_commit)
    with django_assert_num_queries(3):
        page = client.get("/library/duplicates/").content.decode()
    assert page.count("/thumbnail/") == 7


def stored_copy(*, project, width: int, height: int, sharpness: float, phash="f0f0f0f0f0f0f0f0", fmt="JPEG"):
    """A photo of `width`×`height` in the library, analysed: what the duplicates page compares.
    Bytes per pixel are those of a typical camera JPEG, the same for every size."""
    photo = Photo.objects.create(
        project=project,
        original=f"users/{project.owner_id}/projects/{project.id}/{width}x{height}/original.jpg",
        original_filename=f"picture-{width}x{height}.jpg",
        format=fmt,
        bytes=int(width * height * 0.25),
        sha256=f"{width:021d}{height:021d}{round(sharpness):022d}",
        width=width,
        height=height,
        status=Photo.Status.READY,
        phash=phash,
    )
    long_side = max(width, height)
    return LibraryItem.objects.create(
        user=project.owner,
        kind=LibraryItem.Kind.PHOTO,
        photo=photo,
        project=project,
        status=LibraryItem.Status.DONE,
        created_at=timezone.now(),
        sha256=photo.sha256,
        phash=phash,
        sharpness=sharpness,
        # The analysed copy is at most 1024 px long.
        width=round(width * min(1, 1024 / long_side)),
        height=round(height * min(1, 1024 / long_side)),
    )


def test_keep_the_best_keeps_the_largest_copy_and_moves_the_others_to_the_trash(client):
    """The issue's three copies: the 1920×1080 one measured sharpest (a downscaled copy does), yet
    the 5640×3172 original is the best; the other two go to the trash, not away for good."""
    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    original = stored_copy(project=project, width=5640, height=3172, sharpness=632)
    uhd = stored_copy(project=project, width=3840, height=2160, sharpness=625)
    full_hd = stored_copy(project=project, width=1920, height=1080, sharpness=639)

    (group,) = library_selectors.duplicate_groups(user=owner).near
    assert [item.id for item in group.items] == [original.id, uhd.id, full_hd.id]
    client.force_login(owner)
    page = client.get("/library/duplicates/").content.decode()
    assert "move 2 others to the trash? You can restore them from Trash for 30 days." in page

    response = client.post("/library/duplicates/keep-best/", {"items": [full_hd.id, uhd.id, original.id]}, follow=True)
    assert messages_of(response) == ["Kept the best; 2 copies moved to trash — restore them from Trash within 30 days."]
    photos = {photo.id: photo for photo in Photo.objects.all()}
    assert photos[original.photo_id].trashed_at is None
    assert photos[uhd.photo_id].trashed_at is not None
    assert photos[full_hd.photo_id].trashed_at is not None
    assert [item.id for item in library_selectors.duplicate_groups(user=owner).near] == []
    trash = client.get("/library/trash/").content.decode()
    assert "picture-3840x2160.jpg" in trash
    assert "picture-1920x1080.jpg" in trash
    assert "picture-5640x3172.jpg" not in trash


@pytest.mark.parametrize(
    ("copies", "best"),
    [
        # One size class (re-saved or cropped by a few pixels): the sharpest.
        ([(3840, 2160, 600), (3840, 2160, 640), (3830, 2154, 620)], 1),
        # Sizes apart: the most pixels, whatever the sharpness.
        ([(1280, 720, 900), (2560, 1440, 300), (1920, 1080, 950)], 1),
        ([(1080, 1920, 700), (2160, 3840, 100)], 1),
    ],
)
def test_resolution_ranks_first_and_sharpness_only_within_one_size_class(copies, best):
    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    items = [stored_copy(project=project, width=w, height=h, sharpness=s) for w, h, s in copies]
    (group,) = library_selectors.duplicate_groups(user=owner).near
    assert group.best.id == items[best].id


def test_a_less_compressed_copy_of_the_same_size_beats_a_sharper_looking_one():
    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    heavy = stored_copy(project=project, width=3000, height=2000, sharpness=700)
    Photo.objects.filter(id=heavy.photo_id).update(bytes=3000 * 2000 // 20)  # 0.05 bytes per pixel
    fine = stored_copy(project=project, width=3000, height=2002, sharpness=500)
    (group,) = library_selectors.duplicate_groups(user=owner).near
    assert group.best.id == fine.id


def test_keep_the_best_is_refused_with_403_to_whoever_may_not_edit_an_item(client, owner, library):
    first, second, small, other = library
    viewer, editor = UserFactory(), UserFactory()
    Membership.objects.create(project=first.project, user=viewer, role=Role.VIEWER)
    Membership.objects.create(project=second.project, user=viewer, role=Role.VIEWER)
    Membership.objects.create(project=first.project, user=editor, role=Role.EDITOR)
    Membership.objects.create(project=second.project, user=editor, role=Role.VIEWER)
    assert ids(library_selectors.duplicate_groups(user=viewer).exact[0]) == [first.id, second.id]
    client.force_login(viewer)
    assert client.post("/library/duplicates/keep-best/", {"items": [first.id, second.id]}).status_code == 403
    # Keeping the editable one and trashing the other project's is refused just the same.
    with pytest.raises(PermissionDenied):
        services.duplicates_keep_best(user=editor, item_ids=[first.id, second.id])
    assert not Photo.objects.filter(trashed_at__isnull=False).exists()
    # Where they may edit both, an editor keeps the best.
    Membership.objects.filter(project=second.project, user=editor).update(role=Role.EDITOR)
    assert services.duplicates_keep_best(user=editor, item_ids=[first.id, second.id]) == [second.id]
