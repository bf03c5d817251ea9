from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from core.exceptions import ProviderError
from core.money import money
from core.trash import TrashedListFilter
from generation import services
from generation.models import GeneratedImage, Generation, GenerationLimit


def _thumbnail(image: GeneratedImage):
    if not image.thumbnail:
        return "—"
    url = reverse("generation:image_file", kwargs={"image_id": image.id, "variant": "thumbnail"})
    return format_html('<img src="{}" alt="" style="max-height:96px;max-width:96px">', url)


class GeneratedImageInline(admin.TabularInline):
    model = GeneratedImage
    extra = 0
    can_delete = False
    fields = ["preview", "index", "width", "height", "seed", "format", "favourite", "likeness", "face_count"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="image")
    def preview(self, image):
        return _thumbnail(image)


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "model", "status", "num_outputs", "backend", "charged", "worker_ms", "created_at"]
    list_filter = ["status", "error_kind", "backend", "prompt_translation", "aspect_ratio", "created_at"]
    search_fields = ["user__email", "prompt", "prompt_typed", "provider_id", "project__name"]
    list_select_related = ["user", "training_run__project"]
    # Money is shown as money (core.money), in place of the raw amounts.
    readonly_fields = [
        {"estimated_cost": "estimated", "cost": "charged"}.get(field.name, field.name)
        for field in Generation._meta.fields
    ] + ["provider_link"]
    inlines = [GeneratedImageInline]
    actions = ["cancel", "repoll"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="cost", ordering="cost")
    def charged(self, generation):
        return money(generation.cost) or "—"

    @admin.display(description="estimated cost", ordering="estimated_cost")
    def estimated(self, generation):
        return money(generation.estimated_cost)

    @admin.display(description="model", ordering="training_run")
    def model(self, generation):
        return generation.training_run.project.name if generation.training_run_id else "FLUX.1-dev (base)"

    @admin.display(description="provider")
    def provider_link(self, generation):
        if generation.backend == "replicate" and generation.provider_id:
            return format_html('<a href="https://replicate.com/p/{0}">{0}</a>', generation.provider_id)
        return generation.provider_id or "—"

    @admin.action(description="Cancel selected jobs")
    def cancel(self, request, queryset):
        for generation in queryset.filter(status__in=Generation.ACTIVE):
            try:
                services.generation_cancel(generation=generation)
            except ProviderError as error:
                self.message_user(request, f"Job {generation.id}: {error}", messages.ERROR)

    @admin.action(description="Poll the provider now (and store images)")
    def repoll(self, request, queryset):
        count = sum(
            services.generation_repoll(generation_id=job_id) for job_id in queryset.values_list("id", flat=True)
        )
        self.message_user(request, f"Re-driven {count} active job(s).")


@admin.register(GeneratedImage)
class GeneratedImageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "preview",
        "generation",
        "owner",
        "likeness",
        "favourite",
        "format",
        "created_at",
        "trashed_at",
    ]
    list_filter = [TrashedListFilter, "favourite", "format", "created_at"]
    search_fields = ["generation__user__email", "generation__prompt"]
    list_select_related = ["generation__user"]
    readonly_fields = [field.name for field in GeneratedImage._meta.fields if field.name != "favourite"] + ["preview"]
    actions = ["restore"]

    @admin.action(description="Restore from the trash")
    def restore(self, request, queryset):
        restored = 0
        for image in queryset.filter(trashed_at__isnull=False):
            services.image_restore(image=image)
            restored += 1
        self.message_user(request, f"Restored {restored} image{'' if restored == 1 else 's'}.")

    def has_add_permission(self, request):
        return False

    @admin.display(description="image")
    def preview(self, image):
        return _thumbnail(image)

    @admin.display(ordering="generation__user__email")
    def owner(self, image):
        return image.generation.user


@admin.register(GenerationLimit)
class GenerationLimitAdmin(admin.ModelAdmin):
    list_display = ["user", "concurrent_jobs", "images_per_day", "spend_limit"]
    search_fields = ["user__email"]
    autocomplete_fields = ["user"]

    @admin.display(description="monthly spend", ordering="monthly_spend")
    def spend_limit(self, limit):
        return money(limit.monthly_spend) or "default"
