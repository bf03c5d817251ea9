"""What the app says about the trash: deleted photos and images wait there before they go for good."""

from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext, ngettext, ngettext_lazy


def days_phrase(days: int) -> str:
    return ngettext("%(days)d day", "%(days)d days", days) % {"days": days}


# One sentence per kind of thing, whole, so that each language can agree its words with the noun.
MOVED = {
    "image": ngettext_lazy(
        "%(count)d image moved to trash — restore it from Trash within %(within)s.",
        "%(count)d images moved to trash — restore them from Trash within %(within)s.",
        "count",
    ),
    "photo": ngettext_lazy(
        "%(count)d photo moved to trash — restore it from Trash within %(within)s.",
        "%(count)d photos moved to trash — restore them from Trash within %(within)s.",
        "count",
    ),
    "copy": ngettext_lazy(
        "%(count)d copy moved to trash — restore it from Trash within %(within)s.",
        "%(count)d copies moved to trash — restore them from Trash within %(within)s.",
        "count",
    ),
    "item": ngettext_lazy(
        "%(count)d item moved to trash — restore it from Trash within %(within)s.",
        "%(count)d items moved to trash — restore them from Trash within %(within)s.",
        "count",
    ),
}


def moved_to_trash(*, count: int, singular: str, plural: str = "") -> str:
    """'1 image moved to trash — restore it from Trash within 30 days.' (or 'N images … them …'),
    in the active language; `singular` names the kind of thing (image, photo, copy; else "item")."""
    message = MOVED.get(singular, MOVED["item"])
    return message % {"count": count, "within": days_phrase(settings.TRASH_RETENTION_DAYS)}


def named_moved_to_trash(*, name: str) -> str:
    within = days_phrase(settings.TRASH_RETENTION_DAYS)
    return gettext("“%(name)s” moved to trash — restore it from Trash within %(within)s.") % {
        "name": name,
        "within": within,
    }


class TrashedListFilter(admin.SimpleListFilter):
    """Admin list filter on a model with a `trashed_at` field: in the trash or not."""

    title = "in trash"
    parameter_name = "trashed"

    def lookups(self, request, model_admin):
        return [("yes", "In the trash"), ("no", "Not in the trash")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(trashed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(trashed_at__isnull=True)
        return queryset
