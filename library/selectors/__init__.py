"""The library's reads. Callers may keep `from library import selectors; selectors.foo()`; new
code imports from the submodule (items, search, sharing, albums, trash, duplicates)."""

from library.selectors.albums import (
    album_attach_covers,
    album_get_for_user,
    album_items,
    album_list_for_user,
    album_suggestion_get_for_user,
    album_suggestion_list_for_user,
)
from library.selectors.duplicates import DuplicateGroup, Duplicates, duplicate_groups, item_source_size
from library.selectors.items import (
    item_full_url,
    item_get_for_user,
    item_list_for_user,
    item_status_counts,
    item_thumbnail_url,
    items_stuck,
)
from library.selectors.search import Hit, library_search, library_similar, library_vectors
from library.selectors.sharing import (
    SHARE_VARIANTS,
    share_album_for_user,
    share_album_items,
    share_file,
    share_file_url,
    share_get_for_user,
    share_item_url,
    share_list_for_user,
    share_resolve,
    share_state,
    share_url,
)
from library.selectors.trash import (
    TRASH_KINDS,
    TrashEntry,
    trash_count_for_user,
    trash_entry,
    trash_for_user,
    trash_get_for_user,
    trash_purge_at,
)

__all__ = [
    "DuplicateGroup",
    "Duplicates",
    "duplicate_groups",
    "item_source_size",
    "share_resolve",
    "SHARE_VARIANTS",
    "TRASH_KINDS",
    "Hit",
    "TrashEntry",
    "album_attach_covers",
    "album_get_for_user",
    "album_items",
    "album_list_for_user",
    "album_suggestion_get_for_user",
    "album_suggestion_list_for_user",
    "item_full_url",
    "item_get_for_user",
    "item_list_for_user",
    "item_status_counts",
    "item_thumbnail_url",
    "items_stuck",
    "library_search",
    "library_similar",
    "library_vectors",
    "share_album_for_user",
    "share_album_items",
    "share_file",
    "share_file_url",
    "share_get_for_user",
    "share_item_url",
    "share_list_for_user",
    "share_state",
    "share_url",
    "trash_count_for_user",
    "trash_entry",
    "trash_for_user",
    "trash_get_for_user",
    "trash_purge_at",
]
