from django.contrib import admin

from library.models import Album, AlbumSuggestion, LibraryItem, ShareLink
from library.services import items as item_services


@admin.register(LibraryItem)
class LibraryItemAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "kind", "status", "label", "backend", "created_at"]
    list_filter = ["kind", "status", "backend"]
    search_fields = ["user__email", "caption", "description"]
    # The label reads the photo's file name, or the generated image's place in its job.
    list_select_related = ["user", "photo", "generated_image"]
    exclude = ["embedding"]
    readonly_fields = [f.name for f in LibraryItem._meta.fields if f.name != "embedding"]
    actions = ["analyse_again"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Caption (or name)", ordering="caption")
    def label(self, item: LibraryItem) -> str:
        return item.label

    @admin.action(description="Analyse again")
    def analyse_again(self, request, queryset):
        for item_id in queryset.values_list("id", flat=True):
            item_services.item_request_analysis(item_id=item_id)
        self.message_user(request, "Analysis queued.")


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "user", "created_at"]
    search_fields = ["name", "user__email"]
    raw_id_fields = ["cover"]


@admin.register(AlbumSuggestion)
class AlbumSuggestionAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "user", "status", "created_at"]
    list_filter = ["status"]


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "generated_image", "album", "expires_at", "revoked_at", "views"]
    exclude = ["token"]
    raw_id_fields = ["generated_image", "album"]
