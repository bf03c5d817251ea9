"""What the app says about the trash: deleted photos and images wait there before they go for good."""

from django.conf import settings
from django.contrib import admin


def days_phrase(days: int) -> str:
    return f"{days} day{'' if days == 1 else 's'}"


def moved_to_trash(*, count: int, singular: str, plural: str = "") -> str:
    """'1 image moved to trash — restore it from Trash within 30 days.' (or 'N images … them …')."""
    noun = singular if count == 1 else (plural or f"{singular}s")
    pronoun = "it" if count == 1 else "them"
    within = days_phrase(settings.TRASH_RETENTION_DAYS)
    return f"{count} {noun} moved to trash — restore {pronoun} from Trash within {within}."


def named_moved_to_trash(*, name: str) -> str:
    within = days_phrase(settings.TRASH_RETENTION_DAYS)
    return f"“{name}” moved to trash — restore it from Trash within {within}."


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
