from django.conf import settings
from django.db import models
from django.utils import timezone


class TrainingRun(models.Model):
    """One attempt at fine-tuning a FLUX.1-dev LoRA for a project."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SUBMITTING = "submitting", "Submitting"
        STARTING = "starting", "Starting"
        TRAINING = "training", "Training"
        PUBLISHING = "publishing", "Publishing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    class Preset(models.TextChoices):
        FAST = "fast", "Fast"
        BALANCED = "balanced", "Balanced"
        HIGH_QUALITY = "high_quality", "High quality"

    ACTIVE = (Status.QUEUED, Status.SUBMITTING, Status.STARTING, Status.TRAINING, Status.PUBLISHING)
    TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)
    # Position in the life of a run: updates may only move a run forward.
    RANK = {
        Status.QUEUED: 0,
        Status.SUBMITTING: 1,
        Status.STARTING: 2,
        Status.TRAINING: 3,
        Status.PUBLISHING: 4,
        Status.SUCCEEDED: 5,
        Status.FAILED: 5,
        Status.CANCELED: 5,
    }

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="training_runs")
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
    # What kind of failure ended the run (core.failures.Kind), "" while it runs or when it succeeded.
    error_kind = models.CharField(max_length=32, blank=True)
    # When the run entered its status: each status has its own deadline from then (see
    # settings.TRAINING_STATE_DEADLINE_MINUTES), and `attempts` counts the tries of its step.
    state_changed_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The latest error a step met (kept for operators and for the message if the run ends).
    last_error = models.CharField(max_length=500, blank=True)
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
    # The attempt working on the current step (submit, publish, email) and until when: see core.leases.
    lease_holder = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    polls = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_poll_at"], name="trainingrun_poll_idx")]

    def __str__(self):
        return f"Training #{self.id} of {self.project}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def simulated(self) -> bool:
        """A demo-mode run: nothing of it is ever charged or counted as spend."""
        return self.backend == "demo"

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
