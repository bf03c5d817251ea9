"""The library's writes. Callers may keep `from library import services; services.foo()` (the
tasks do); new code imports from the submodule (items, analysis, albums, suggestions, duplicates,
sharing, trash). Reads are in library.selectors."""

from library.services.albums import (
    ALBUM_ITEMS_PER_CHANGE,
    ALBUM_NAME_MAX,
    UNCHANGED,
    AlbumError,
    album_add_items,
    album_clean_name,
    album_create,
    album_delete,
    album_remove_items,
    album_rename,
    album_set_cover,
    album_update,
)
from library.services.analysis import (
    BACKENDS,
    backend_for,
    item_analyse,
    item_analyse_failed,
    item_analyse_give_up,
    library_reanalyse,
    library_reembed,
)
from library.services.duplicates import (
    DuplicateError,
    duplicates_keep_best,
)
from library.services.items import (
    item_add_generated,
    item_add_photo,
    item_request_analysis,
    library_add_missing,
    library_reconcile,
)
from library.services.sharing import (
    SHARE_MAX_DAYS,
    ShareNotAllowed,
    share_create,
    share_record_view,
    share_revoke,
)
from library.services.suggestions import (
    album_suggestion_accept,
    album_suggestion_dismiss,
    album_suggestion_key,
    album_suggestion_title,
    album_suggestions_refresh,
)
from library.services.trash import TrashError, trash_delete_permanently, trash_empty, trash_restore

__all__ = [
    "ALBUM_ITEMS_PER_CHANGE",
    "ALBUM_NAME_MAX",
    "BACKENDS",
    "SHARE_MAX_DAYS",
    "UNCHANGED",
    "AlbumError",
    "DuplicateError",
    "ShareNotAllowed",
    "TrashError",
    "album_add_items",
    "album_clean_name",
    "album_create",
    "album_delete",
    "album_remove_items",
    "album_rename",
    "album_set_cover",
    "album_suggestion_accept",
    "album_suggestion_dismiss",
    "album_suggestion_key",
    "album_suggestion_title",
    "album_suggestions_refresh",
    "album_update",
    "backend_for",
    "duplicates_keep_best",
    "item_add_generated",
    "item_add_photo",
    "item_analyse",
    "item_analyse_failed",
    "item_analyse_give_up",
    "item_request_analysis",
    "library_add_missing",
    "library_reanalyse",
    "library_reconcile",
    "library_reembed",
    "share_create",
    "share_record_view",
    "share_revoke",
    "trash_delete_permanently",
    "trash_empty",
    "trash_restore",
]
