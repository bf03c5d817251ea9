from django.contrib import admin, messages
from django.db.models import Count
from django.template.defaultfilters import pluralize
from django.utils.html import format_html

from core.trash import TrashedListFilter
from projects import selectors, services
from projects.models import Membership, Photo, Project


class PhotoInline(admin.TabularInline):
    model = Photo
    extra = 0
    can_delete = False
    show_change_link = True
    fields = [
        "preview_image",
        "original_filename",
        "status",
        "width",
        "height",
        "description",
        "face_count",
        "blur_score",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="photo")
    def preview_image(self, photo):
        url = selectors.photo_url(photo=photo, variant="preview")
        return format_html('<img src="{}" alt="" width="64">', url) if url else "—"


class MembershipInline(admin.TabularInline):
    """Who is in the project, with which role. Read only: members, roles and ownership change
    through the project's services (one owner membership, kept in step with Project.owner)."""

    model = Membership
    extra = 0
    can_delete = False
    fields = ["user", "role", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "category", "status", "photos", "members", "trigger_word", "created_at"]
    list_filter = ["category", "status", "created_at"]
    search_fields = ["name", "owner__email", "memberships__user__email", "trigger_word"]
    list_select_related = ["owner"]
    readonly_fields = ["owner", "created_at", "updated_at"]
    inlines = [MembershipInline, PhotoInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(photo_total=Count("photos", distinct=True), member_total=Count("memberships", distinct=True))
        )

    @admin.display(ordering="photo_total")
    def photos(self, project):
        return project.photo_total

    @admin.display(ordering="member_total")
    def members(self, project):
        return project.member_total

    def delete_model(self, request, obj):
        # Through the service, so the stored files go too.
        services.project_delete(project=obj)

    def delete_queryset(self, request, queryset):
        for project in queryset:
            services.project_delete(project=project)


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["original_filename", "project", "status", "format", "width", "height", "created_at", "trashed_at"]
    list_filter = [TrashedListFilter, "status", "format", "project__category"]
    actions = ["restore"]
    search_fields = ["original_filename", "project__name", "project__owner__email", "sha256"]
    list_select_related = ["project"]
    exclude = ["face_descriptor"]
    readonly_fields = [f.name for f in Photo._meta.fields if f.name not in ("description", "face_descriptor")]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Restore from the trash")
    def restore(self, request, queryset):
        restored = 0
        for photo in queryset.filter(trashed_at__isnull=False).select_related("project"):
            try:
                services.photo_restore(photo=photo)
                restored += 1
            except services.ProjectError as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
        self.message_user(request, f"Restored {restored} photo{pluralize(restored)}.")

    def delete_model(self, request, obj):
        # Operators delete for good (Django's confirmation page says so); users' deletes go to the trash.
        services.photo_delete(photo=obj)

    def delete_queryset(self, request, queryset):
        for photo in queryset:
            services.photo_delete(photo=photo)
