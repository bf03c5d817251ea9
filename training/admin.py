from django.contrib import admin, messages
from django.utils.html import format_html

from core.exceptions import ProviderError
from core.money import money
from training import services
from training.models import TrainingLimit, TrainingRun


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project",
        "owner",
        "status",
        "progress",
        "backend",
        "estimated",
        "actual",
        "created_at",
    ]
    list_filter = ["status", "error_kind", "backend", "preset", "created_at"]
    search_fields = ["project__name", "project__owner__email", "provider_training_id", "hf_repo_id"]
    list_select_related = ["project__owner"]
    # Money is shown as money (core.money), in place of the raw amounts.
    readonly_fields = [
        {"estimated_cost": "estimated", "actual_cost": "actual"}.get(f.name, f.name) for f in TrainingRun._meta.fields
    ] + ["provider_link", "hub_link"]
    actions = ["cancel", "repoll", "resend_email", "retry"]

    def has_add_permission(self, request):
        return False

    @admin.display(ordering="project__owner__email")
    def owner(self, run):
        return run.project.owner

    @admin.display(description="estimated cost", ordering="estimated_cost")
    def estimated(self, run):
        return money(run.estimated_cost)

    @admin.display(description="actual cost", ordering="actual_cost")
    def actual(self, run):
        return money(run.actual_cost) or "—"

    @admin.display(description="provider")
    def provider_link(self, run):
        if run.backend == "replicate" and run.provider_training_id:
            return format_html('<a href="https://replicate.com/p/{0}">{0}</a>', run.provider_training_id)
        return run.provider_training_id or "—"

    @admin.display(description="Hugging Face")
    def hub_link(self, run):
        if run.hf_repo_id:
            return format_html('<a href="https://huggingface.co/{0}">{0}</a>', run.hf_repo_id)
        return "—"

    @admin.action(description="Cancel selected runs")
    def cancel(self, request, queryset):
        for run in queryset:
            try:
                services.training_cancel(run=run)
            except ProviderError as error:
                self.message_user(request, f"Run {run.id}: {error}", messages.ERROR)

    @admin.action(description="Poll the provider now")
    def repoll(self, request, queryset):
        for run_id in queryset.values_list("id", flat=True):
            services.training_repoll(run_id=run_id)
        self.message_user(request, "Polling queued for the active runs selected.")

    @admin.action(description="Resend the result email")
    def resend_email(self, request, queryset):
        queued = services.training_resend_email(run_ids=queryset.values_list("id", flat=True))
        self.message_user(request, f"Email queued for {queued} run(s).")

    @admin.action(description="Retry (start a new run of the same project)")
    def retry(self, request, queryset):
        for run in queryset.filter(status__in=[TrainingRun.Status.FAILED, TrainingRun.Status.CANCELED]):
            try:
                services.training_start(project=run.project, preset=run.preset)
            except services.TrainingNotAllowed as refusal:
                self.message_user(request, f"Run {run.id}: {refusal}", messages.WARNING)


@admin.register(TrainingLimit)
class TrainingLimitAdmin(admin.ModelAdmin):
    list_display = ["user", "runs_per_day", "spend_limit"]
    search_fields = ["user__email"]
    autocomplete_fields = ["user"]

    @admin.display(description="monthly spend", ordering="monthly_spend")
    def spend_limit(self, limit):
        return money(limit.monthly_spend) or "default"
