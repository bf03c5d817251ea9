from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.lifecycle import Lifecycle


class Generation(Lifecycle):
    """One request for images: a prompt run with a trained LoRA (or the base model). Its lifecycle
    fields (lease, state_changed_at, attempts, last_error, error_kind, completed_at) are core.lifecycle's."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("generation status", "Queued")
        RUNNING = "running", pgettext_lazy("generation status", "Running")
        SUCCEEDED = "succeeded", pgettext_lazy("generation status", "Succeeded")
        FAILED = "failed", pgettext_lazy("generation status", "Failed")
        CANCELED = "canceled", pgettext_lazy("generation status", "Canceled")

    class AspectRatio(models.TextChoices):
        SQUARE = "1:1", _("Square 1:1")
        PORTRAIT_4_5 = "4:5", _("Portrait 4:5")
        PORTRAIT_2_3 = "2:3", _("Portrait 2:3")
        PORTRAIT_9_16 = "9:16", _("Story 9:16")
        LANDSCAPE_5_4 = "5:4", _("Landscape 5:4")
        LANDSCAPE_3_2 = "3:2", _("Landscape 3:2")
        LANDSCAPE_16_9 = "16:9", _("Wide 16:9")

    class OutputFormat(models.TextChoices):
        WEBP = "webp", "WebP"
        JPG = "jpg", "JPEG"
        PNG = "png", "PNG"

    class PromptTranslation(models.TextChoices):
        """What became of the typed prompt on its way to the provider (which reads English best)."""

        PENDING = "pending", _("Being translated to English")
        NOT_NEEDED = "not_needed", _("Typed in English")
        TRANSLATED = "translated", _("Translated to English")
        # A prompt template or suggestion sent unchanged: its English original goes, no translation call.
        ORIGINAL = "original", _("Sent in its English original")
        OFF = "off", _("Translation off")
        NOT_TRANSLATED_DEMO = "not_translated_demo", _("Not translated (demo mode)")
        FAILED = "failed", _("Could not be translated")

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    # The error of a job whose prompt, translated, is too long to send (operators, the API; the
    # job page says it in the reader's language: translation_too_long).
    TRANSLATION_TOO_LONG = (
        "The English translation of the prompt has {length} characters, more than the {limit} a prompt may "
        "have, so nothing was sent and nothing was charged. Send it as typed, or shorten it and try again."
    )
    TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations")
    # The trained model used; empty for the base FLUX.1-dev model.
    training_run = models.ForeignKey(
        "training.TrainingRun", null=True, blank=True, on_delete=models.CASCADE, related_name="generations"
    )
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="generations"
    )
    # What is sent to the provider: in English once translated (see prompt_translation), the
    # trigger word added when it was missing.
    prompt = models.TextField()
    # What the user wrote (whitespace tidied); empty for jobs made before prompts were translated.
    prompt_typed = models.TextField(blank=True)
    # The typed prompt's language as detected offline (generation.languages); "" if not known.
    prompt_language = models.CharField(max_length=8, blank=True)
    # The user's choice for this prompt: translate it to English when it is not in English.
    translate_prompt = models.BooleanField(default=True)
    prompt_translation = models.CharField(
        max_length=24, choices=PromptTranslation.choices, default=PromptTranslation.NOT_NEEDED
    )
    num_outputs = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(4)])
    aspect_ratio = models.CharField(max_length=8, choices=AspectRatio.choices, default=AspectRatio.SQUARE)
    # Always set (drawn at random when the user leaves it empty), so "use these settings again"
    # reproduces the images.
    seed = models.PositiveIntegerField()
    guidance = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    steps = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(50)])
    lora_scale = models.FloatField(validators=[MinValueValidator(-1), MaxValueValidator(3)])
    output_format = models.CharField(max_length=4, choices=OutputFormat.choices, default=OutputFormat.WEBP)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    backend = models.CharField(max_length=32, help_text="Which provider runs it: replicate, huggingface or demo.")
    provider_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # Output URLs reported by the provider; they expire (Replicate: after an hour).
    output_urls = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    # state_changed_at is when the job entered its phase (queued, submitting, running, collecting:
    # see `phase`); each phase has its own deadline from then (settings.GENERATION_STATE_DEADLINE_MINUTES).
    gpu_seconds = models.FloatField(null=True, blank=True)
    estimated_cost = models.DecimalField(max_digits=8, decimal_places=3)
    cost = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    polls = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    # The lease (core.lifecycle) is held by the attempt submitting the job to its provider.
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Worker time spent on this job (submission, polls and storing images), for the queue benchmark
    # and operators; provider time is not included.
    worker_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="generation_user_recent_idx"),
            models.Index(fields=["status", "next_poll_at"], name="generation_poll_idx"),
        ]

    def __str__(self):
        return f"Generation #{self.id}"

    @property
    def prompt_as_typed(self) -> str:
        """What the user wrote ("use these settings again" starts from it)."""
        return self.prompt_typed or self.prompt

    @property
    def prompt_note(self) -> str:
        """One line on the prompt that was sent, in the reader's language; "" when it was typed in English."""
        status = self.PromptTranslation
        if self.prompt_translation in (status.TRANSLATED, status.ORIGINAL):
            return gettext("Sent in English: %(prompt)s") % {"prompt": self.prompt}
        if self.prompt_translation == status.NOT_TRANSLATED_DEMO:
            if not self.simulated:
                return gettext("Not translated: no translation service is set up, so the prompt was sent as typed.")
            return gettext("Not translated: demo mode sends prompts as typed.")
        if self.prompt_translation == status.OFF:
            return gettext("Translation off: sent as typed.")
        if self.prompt_translation == status.PENDING and self.is_active:
            return gettext("Being translated to English…")
        if self.translation_too_long:
            return gettext("Not sent: its English translation is too long.")
        if self.translation_failed:
            return gettext("Not sent: it could not be translated to English.")
        return ""

    @property
    def translation_failed(self) -> bool:
        """The job ended before its prompt could be translated (so nothing was sent)."""
        status = self.PromptTranslation
        return self.prompt_translation == status.FAILED or (
            self.prompt_translation == status.PENDING and self.status == self.Status.FAILED
        )

    @property
    def translation_too_long(self) -> bool:
        """The job ended because its prompt, translated, was longer than a prompt may be."""
        prefix = self.TRANSLATION_TOO_LONG.split("{", 1)[0]
        return self.translation_failed and self.error.startswith(prefix)

    @property
    def phase(self) -> str:
        """The status, with RUNNING told apart: submitting (no prediction yet), running, collecting
        (the provider finished; its images are being stored)."""
        if self.status != self.Status.RUNNING:
            return self.status
        if not self.provider_id:
            return "submitting"
        return "collecting" if self.output_urls else "running"


LIKENESS_FLAG_LABELS = {"No face": _("No face"), "Different face": _("Different face")}


class GeneratedImage(models.Model):
    # dlib's threshold: descriptors closer than this are the same person.
    SAME_PERSON_DISTANCE = 0.6

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="images")
    # Position in the provider's output list: each output is stored once, whatever retries happen.
    index = models.PositiveSmallIntegerField()
    file = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    seed = models.PositiveIntegerField()
    format = models.CharField(max_length=4)
    bytes = models.PositiveBigIntegerField()
    favourite = models.BooleanField(default=False)
    # Person models only: faces found, and the median descriptor distance to the training faces
    # (dlib: under 0.6 is the same person).
    face_count = models.PositiveSmallIntegerField(null=True, blank=True)
    likeness_distance = models.FloatField(null=True, blank=True)
    likeness = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0-100, higher is more alike.")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the user deletes the image: it waits in the trash (restorable, its files kept) until
    # generation.purge_trashed_images removes it TRASH_RETENTION_DAYS later.
    trashed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "index"], name="generatedimage_once_per_output"),
        ]

    def __str__(self):
        return f"Image {self.index + 1} of generation #{self.generation_id}"

    def file_names(self) -> list[str]:
        return [f.name for f in (self.file, self.thumbnail) if f]

    @property
    def likeness_flag(self) -> str:
        """Why this image may not show the person, or "" when it does (or was not checked)."""
        if self.face_count == 0:
            return "No face"
        if self.likeness_distance is not None and self.likeness_distance > self.SAME_PERSON_DISTANCE:
            return "Different face"
        return ""

    @property
    def likeness_flag_label(self) -> str:
        """The flag in the reader's language (the API keeps the English flag)."""
        return str(LIKENESS_FLAG_LABELS.get(self.likeness_flag, self.likeness_flag))


class GenerationLimit(models.Model):
    """Per-user overrides of the generation limits in settings."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generation_limit")
    concurrent_jobs = models.PositiveIntegerField(null=True, blank=True)
    images_per_day = models.PositiveIntegerField(null=True, blank=True)
    monthly_spend = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)

    def __str__(self):
        return f"Generation limits of {self.user}"
