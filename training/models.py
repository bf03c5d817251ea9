from django.conf import settings
from django.db import models
from django.utils.translation import pgettext_lazy

from core.lifecycle import Lifecycle


class TrainingRun(Lifecycle):
    """One attempt at fine-tuning a FLUX.1-dev LoRA for a project. Its lifecycle fields (lease,
    state_changed_at, attempts, last_error, error_kind, completed_at) are core.lifecycle's."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("training status", "Queued")
        SUBMITTING = "submitting", pgettext_lazy("training status", "Submitting")
        STARTING = "starting", pgettext_lazy("training status", "Starting")
        TRAINING = "training", pgettext_lazy("training status", "Training")
        PUBLISHING = "publishing", pgettext_lazy("training status", "Publishing")
        SUCCEEDED = "succeeded", pgettext_lazy("training status", "Succeeded")
        FAILED = "failed", pgettext_lazy("training status", "Failed")
        CANCELED = "canceled", pgettext_lazy("training status", "Canceled")

    class Preset(models.TextChoices):
        FAST = "fast", pgettext_lazy("training preset", "Fast")
        BALANCED = "balanced", pgettext_lazy("training preset", "Balanced")
        HIGH_QUALITY = "high_quality", pgettext_lazy("training preset", "High quality")

    # In the order a run goes through them: updates may only move a run forward (Lifecycle.rank).
    ACTIVE = (Status.QUEUED, Status.SUBMITTING, Status.STARTING, Status.TRAINING, Status.PUBLISHING)
    TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="training_runs")
    # Whose training limits the run counts against: the project's owner when it started. A later
    # transfer of the project does not move past runs to the new owner.
    charged_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="charged_training_runs"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    preset = models.CharField(max_length=16, choices=Preset.choices, default=Preset.BALANCED)
    steps = models.PositiveIntegerField()
    lora_rank = models.PositiveSmallIntegerField()
    learning_rate = models.FloatField()
    resolution = models.CharField(max_length=32, help_text="Comma-separated resolution buckets.")
    trigger_word = models.CharField(max_length=32)
    backend = models.CharField(max_length=32, help_text="Which provider runs it: replicate or demo.")
    provider_training_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    provider_destination = models.CharField(max_length=128, blank=True)
    provider_version = models.CharField(max_length=200, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    log_tail = models.TextField(blank=True)
    loss_points = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    # Each status has its own deadline from state_changed_at: settings.TRAINING_STATE_DEADLINE_MINUTES.
    gpu_seconds = models.FloatField(null=True, blank=True)
    estimated_cost = models.DecimalField(max_digits=8, decimal_places=2)
    estimated_minutes = models.PositiveIntegerField()
    actual_cost = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    dataset = models.FileField(blank=True, max_length=255)
    # The URL the provider was given for the dataset; kept so a retried submission can find the
    # training a crashed attempt may have started with it.
    dataset_url = models.URLField(max_length=2000, blank=True)
    lora_file = models.FileField(blank=True, max_length=255)
    hf_repo_id = models.CharField(max_length=200, blank=True)
    hf_commit = models.CharField(max_length=64, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    # Why the owner could not be emailed (SendGrid refused the mail, or every attempt failed).
    email_error = models.CharField(max_length=300, blank=True)
    # The lease (core.lifecycle) is held by the attempt working on the step: submit, publish or email.
    polls = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_poll_at"], name="trainingrun_poll_idx")]

    def __str__(self):
        return f"Training #{self.id} of {self.project}"

    @property
    def has_lora(self) -> bool:
        return bool(self.lora_file or self.hf_commit)


class TrainingLimit(models.Model):
    """Per-user overrides of the training limits in settings."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_limit")
    runs_per_day = models.PositiveIntegerField(null=True, blank=True)
    monthly_spend = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)

    def __str__(self):
        return f"Training limits of {self.user}"
