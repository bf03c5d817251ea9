"""Exact and near duplicates among the user's items, the best of each group first."""

import math
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from accounts.models import User
from library.clustering import connected_components
from library.models import LibraryItem
from library.selectors.items import item_list_for_user
from library.visibility import items_scope
from projects.access import Can
from projects.imaging import phash_distance


@dataclass(frozen=True)
class DuplicateGroup:
    items: list[LibraryItem]  # best first (see best_first): the largest, least compressed, sharpest
    # Near groups show each distinct file once; these are the byte-identical copies of each.
    copies: dict[int, list[LibraryItem]]

    @property
    def best(self) -> LibraryItem:
        return self.items[0]


@dataclass(frozen=True)
class Duplicates:
    exact: list[DuplicateGroup]  # byte-identical files
    near: list[DuplicateGroup]  # different files that look the same (perceptual hash)


def item_source_size(item: LibraryItem) -> tuple[int, int]:
    """The stored file's own size (the item's is of a copy at most 1024 px)."""
    source = item.photo if item.kind == LibraryItem.Kind.PHOTO else item.generated_image
    return (source.width, source.height) if source and source.width else (item.width, item.height)


# Pixel counts within this factor of each other are one size class: resizing, cropping a few
# pixels or re-saving changes the count a little, a smaller copy a lot (a 4K frame has 2.25x
# the pixels of a 1440p one, 4x those of a 1080p one).
SIZE_CLASS_STEP = 1.25
# Bytes per pixel mean more detail kept only between copies compressed alike: WebP and HEIC keep
# about as much as JPEG in fewer bytes. PNG is lossless, so no lossy copy of the same size beats it.
_FORMAT_EFFICIENCY = {"jpeg": 1.0, "jpg": 1.0, "webp": 1.3, "heif": 1.5, "heic": 1.5}
QUALITY_CLASS_STEP = 1.5


def _step_class(value: float, step: float) -> int:
    return math.floor(math.log(value, step)) if value > 0 else -(10**6)


def best_first(item: LibraryItem) -> tuple:
    """The largest, then the least compressed, then the sharpest, then the oldest.

    Resolution first: a downscaled copy loses detail for good, and it even measures sharper
    (sharpness is measured on a copy at most ANALYSIS_LONG_SIDE px long, where a smaller image
    has fewer, crisper pixels per edge). So sharpness only decides between copies of one size class
    whose files are of one quality class (bytes per pixel, weighed by format; lossless first).
    """
    width, height = item_source_size(item)
    pixels = width * height
    source = item.source
    file_format = (getattr(source, "format", "") or "").lower()
    size_bytes = getattr(source, "bytes", 0) or 0
    if file_format == "png":
        quality = 10**6  # lossless
    else:
        per_pixel = size_bytes / pixels * _FORMAT_EFFICIENCY.get(file_format, 1.0) if pixels else 0.0
        quality = _step_class(per_pixel, QUALITY_CLASS_STEP)
    return (
        -_step_class(pixels, SIZE_CLASS_STEP),
        -quality,
        -(item.sharpness or 0.0),
        -pixels,
        item.id,
    )


def _near_pairs(phashes: list[str], distance: int) -> list[tuple[int, int]]:
    """Index pairs whose perceptual hashes differ in at most `distance` bits."""
    values = np.array([int(value, 16) for value in phashes], dtype=np.uint64)
    pairs = []
    for row in range(len(values) - 1):
        differing = np.bitwise_count(values[row + 1 :] ^ values[row])
        for offset in np.flatnonzero(differing <= distance):
            other = row + 1 + int(offset)
            # The vectorised count only short-lists; the projects' own measure decides.
            if phash_distance(phashes[row], phashes[other]) <= distance:
                pairs.append((row, other))
    return pairs


def duplicate_groups(*, user: User, capability: Can = Can.VIEW) -> Duplicates:
    """Exact and near duplicates among the user's analysed items (with `capability`, only those
    their role lets them do this to: EDIT for keep-the-best), as separate lists of groups.

    Exact: the same sha256. Near: different files at most PHOTO_NEAR_DUPLICATE_DISTANCE bits of
    perceptual hash apart, each file shown once (by its best copy), so the two lists never offer
    the same choice twice.
    """
    found = item_list_for_user(user=user)
    if capability != Can.VIEW:
        found = found.filter(items_scope(user=user, capability=capability))
    items = sorted(found.exclude(sha256="").exclude(phash=""), key=lambda item: item.id)
    by_file: dict[str, list[LibraryItem]] = {}
    for item in items:
        by_file.setdefault(item.sha256, []).append(item)
    exact: list[DuplicateGroup] = []
    files: list[LibraryItem] = []
    copies: dict[int, list[LibraryItem]] = {}
    for same in by_file.values():
        same.sort(key=best_first)
        files.append(same[0])
        if len(same) > 1:
            exact.append(DuplicateGroup(items=same, copies={}))
            copies[same[0].id] = same[1:]
    pairs = _near_pairs([item.phash for item in files], settings.PHOTO_NEAR_DUPLICATE_DISTANCE)
    groups = [[files[position] for position in component] for component in connected_components(len(files), pairs)]
    near = [
        DuplicateGroup(
            items=sorted(group, key=best_first),
            copies={item.id: copies[item.id] for item in group if item.id in copies},
        )
        for group in groups
        if len(group) > 1
    ]

    def newest_first(group: DuplicateGroup) -> int:
        return -max(item.id for item in group.items)

    return Duplicates(exact=sorted(exact, key=newest_first), near=sorted(near, key=newest_first))
