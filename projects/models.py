import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.formats import extension_for

trigger_word_validator = RegexValidator(
    r"^[A-Za-z][A-Za-z0-9_]{2,31}$",
    _("One word of 3–32 letters, digits or underscores, starting with a letter (no spaces)."),
)


class Project(models.Model):
    class Category(models.TextChoices):
        PERSON = "person", _("Person")
        PRODUCT = "product", _("Product")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Collecting photos")
        READY = "ready", _("Ready to train")
        TRAINING = "training", pgettext_lazy("project status", "Training")
        TRAINED = "trained", pgettext_lazy("project status", "Trained")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=100)
    category = models.CharField(max_length=16, choices=Category.choices)
    subject_description = models.TextField(
        blank=True,
        max_length=1000,
        help_text=_("Who or what the photos show, e.g. “my sister Ana” or “our ceramic mug”."),
    )
    trigger_word = models.CharField(max_length=32, validators=[trigger_word_validator])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "trigger_word"], name="project_trigger_word_unique_per_owner"),
        ]
        indexes = [models.Index(fields=["owner", "-created_at"], name="project_owner_recent_idx")]

    def __str__(self):
        return self.name


def photo_key_prefix(photo: "Photo") -> str:
    """Storage folder of one photo: per user and project, with an unguessable last part."""
    return f"users/{photo.project.owner_id}/projects/{photo.project_id}/{photo.key.hex}"


def photo_original_path(photo: "Photo", filename: str) -> str:
    extension = extension_for(photo.format)
    return f"{photo_key_prefix(photo)}/original.{extension}"


class Photo(models.Model):
    class Status(models.TextChoices):
        PROCESSING = "processing", pgettext_lazy("photo status", "Processing")
        READY = "ready", pgettext_lazy("photo status", "Ready")
        FAILED = "failed", pgettext_lazy("photo status", "Failed")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="photos")
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    original = models.FileField(upload_to=photo_original_path, max_length=255)
    training_image = models.FileField(blank=True, max_length=255)
    thumbnail = models.FileField(blank=True, max_length=255)
    preview = models.FileField(blank=True, max_length=255)
    original_filename = models.CharField(max_length=255)
    description = models.TextField(blank=True, max_length=500)
    # Filled by the photo-library analysis (a later step); offered to the user, never forced.
    ai_caption = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING)
    error = models.CharField(max_length=300, blank=True)
    format = models.CharField(max_length=8)
    bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # Size after EXIF orientation, as the user sees the photo.
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    phash = models.CharField(max_length=16, blank=True)
    blur_score = models.FloatField(null=True, blank=True)
    face_count = models.PositiveSmallIntegerField(null=True, blank=True)
    face_descriptor = models.JSONField(null=True, blank=True)
    near_duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="near_duplicates"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Set when the user deletes the photo: it waits in the trash (restorable, its files kept) until
    # projects.purge_trashed_photos removes it TRASH_RETENTION_DAYS later.
    trashed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "sha256"], name="photo_unique_content_per_project"),
        ]

    def __str__(self):
        return self.original_filename

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)

    def file_names(self) -> list[str]:
        """Every stored object of this photo."""
        return [f.name for f in (self.original, self.training_image, self.thumbnail, self.preview) if f]


# Teams
# ------------------------------------------------------------------------------


class Role(models.TextChoices):
    """What a member may do in a project; projects/access.py maps each role to its capabilities."""

    OWNER = "owner", pgettext_lazy("project role", "Owner")
    EDITOR = "editor", pgettext_lazy("project role", "Editor")
    VIEWER = "viewer", pgettext_lazy("project role", "Viewer")


class Membership(models.Model):
    """A person's place in a project. Every project has exactly one owner membership, for
    Project.owner (kept in step when ownership is transferred): trainings are charged to them."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_once_per_project"),
        ]
        indexes = [models.Index(fields=["user", "project"], name="membership_user_project_idx")]

    def __str__(self):
        return f"{self.user} in {self.project} ({self.role})"


class ProjectEvent(models.Model):
    """Something that changed in a project, written in the same transaction as the change.

    It is both the activity feed (kinds in FEED_KINDS) and the live pages' event log: after commit
    its id is published to the project's channel group; a connection that missed it (another
    process on the embedded default's in-memory layer, or a reconnect) reads it from here. It
    carries ids only: what a receiver may see is decided when it is sent, by membership."""

    class Kind(models.TextChoices):
        PHOTO_UPLOADED = "photo_uploaded", _("uploaded a photo")
        PHOTO_PROCESSED = "photo_processed", _("photo processed")
        PHOTO_DESCRIBED = "photo_described", _("described a photo")
        PHOTO_DELETED = "photo_deleted", _("deleted a photo")
        PHOTO_RESTORED = "photo_restored", _("restored a photo")
        PROJECT_CHANGED = "project_changed", _("changed the project")
        READINESS_CHANGED = "readiness_changed", _("readiness changed")
        TRAINING_STARTED = "training_started", _("started a training")
        TRAINING_PROGRESS = "training_progress", _("training progress")
        TRAINING_ENDED = "training_ended", _("training ended")
        GENERATION_STARTED = "generation_started", _("started a generation")
        GENERATION_PROGRESS = "generation_progress", _("generation progress")
        GENERATION_ENDED = "generation_ended", _("generation ended")
        IMAGE_CREATED = "image_created", _("new image")
        IMAGE_DELETED = "image_deleted", _("deleted an image")
        MEMBER_INVITED = "member_invited", _("invited someone")
        INVITATION_REVOKED = "invitation_revoked", _("revoked an invitation")
        MEMBER_JOINED = "member_joined", _("joined")
        MEMBER_ROLE_CHANGED = "member_role_changed", _("changed a role")
        MEMBER_REMOVED = "member_removed", _("removed a member")
        MEMBER_LEFT = "member_left", _("left the project")
        OWNERSHIP_TRANSFERRED = "ownership_transferred", _("transferred ownership")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="events")
    # Who did it; empty for the system (a worker finishing a photo, the provider ending a run).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # Ids of what changed, e.g. {"photo": 12} or {"run": 3, "status": "succeeded"}: never text a
    # user wrote, so nothing private travels in an event.
    subject = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "-id"], name="projectevent_project_idx")]

    def __str__(self):
        return f"{self.kind} in project {self.project_id}"


# What the activity feed shows; the other kinds only make live pages refresh.
FEED_KINDS = frozenset(
    {
        ProjectEvent.Kind.PHOTO_UPLOADED,
        ProjectEvent.Kind.PHOTO_DESCRIBED,
        ProjectEvent.Kind.PHOTO_DELETED,
        ProjectEvent.Kind.PHOTO_RESTORED,
        ProjectEvent.Kind.PROJECT_CHANGED,
        ProjectEvent.Kind.TRAINING_STARTED,
        ProjectEvent.Kind.TRAINING_ENDED,
        ProjectEvent.Kind.GENERATION_STARTED,
        ProjectEvent.Kind.GENERATION_ENDED,
        ProjectEvent.Kind.IMAGE_DELETED,
        ProjectEvent.Kind.MEMBER_INVITED,
        ProjectEvent.Kind.INVITATION_REVOKED,
        ProjectEvent.Kind.MEMBER_JOINED,
        ProjectEvent.Kind.MEMBER_ROLE_CHANGED,
        ProjectEvent.Kind.MEMBER_REMOVED,
        ProjectEvent.Kind.MEMBER_LEFT,
        ProjectEvent.Kind.OWNERSHIP_TRANSFERRED,
    }
)


# The roles an invitation (or a role change) can give: the owner's comes only by a transfer.
INVITABLE_ROLE_CHOICES = [(Role.EDITOR.value, Role.EDITOR.label), (Role.VIEWER.value, Role.VIEWER.label)]


class Invitation(models.Model):
    """An invitation by email to join a project as an editor or viewer (an owner only comes by a
    transfer). Its link is signed over the id and a random nonce kept here hashed only: each send
    makes a new nonce (an older link stops working), accepting it ends it (single use), and it
    expires INVITATION_EXPIRY_DAYS after its last send."""

    INVITABLE_ROLES = (Role.EDITOR, Role.VIEWER)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    # Normalised (lower case): compared with the address of the account that accepts it.
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=INVITABLE_ROLE_CHOICES)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The inviter's language when they sent it: the email's language for an address with no account.
    language = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)
    # Sends asked for (the first and each resend), and sends done: the email task sends send number
    # N once, and only while N is the latest (idempotent; a superseded resend sends nothing).
    send_count = models.PositiveSmallIntegerField(default=0)
    emailed_count = models.PositiveSmallIntegerField(default=0)
    nonce_hash = models.CharField(max_length=64, blank=True)
    # "<project id>:<email>" while pending, NULL once accepted, declined or revoked: at most one
    # pending invitation per project and address (MariaDB has no partial unique indexes; NULLs
    # do not collide).
    pending_key = models.CharField(max_length=300, null=True, blank=True, unique=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    declined_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["email", "expires_at"], name="invitation_email_idx")]

    def __str__(self):
        return f"{self.email} to {self.project} ({self.role})"

    @staticmethod
    def key_for(project_id: int, email: str) -> str:
        return f"{project_id}:{email}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.declined_at is None and self.revoked_at is None
