import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def outside_trash(prefix: str = "") -> models.Q:
    """Items (reached through `prefix`, e.g. "item__") whose photo or image is not in the trash.

    The trash lives on the source rows (projects.Photo, generation.GeneratedImage), which their own
    apps trash and restore; the library item follows them without a copy of its own to keep in step.
    """
    return models.Q(
        **{f"{prefix}photo__trashed_at__isnull": True, f"{prefix}generated_image__trashed_at__isnull": True}
    )


class LibraryItemQuerySet(models.QuerySet):
    def outside_trash(self):
        return self.filter(outside_trash())


class LibraryItem(models.Model):
    """A photo or a generated image in the user's searchable library, with what analysis found."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("Uploaded photo")
        GENERATED = "generated", _("Generated image")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for analysis")
        DONE = "done", _("Analysed")
        FAILED = "failed", _("Analysis failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="library_items")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    photo = models.OneToOneField(
        "projects.Photo", null=True, blank=True, on_delete=models.CASCADE, related_name="library_item"
    )
    generated_image = models.OneToOneField(
        "generation.GeneratedImage", null=True, blank=True, on_delete=models.CASCADE, related_name="library_item"
    )
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="library_items"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(max_length=300, blank=True)
    backend = models.CharField(max_length=32, blank=True)
    caption = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    # Subject, composition, style, mood and colours, written as a prompt for something similar.
    aesthetic = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    colours = models.JSONField(default=list, blank=True, help_text=_("Dominant colours, as #rrggbb."))
    camera = models.CharField(max_length=100, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    face_count = models.PositiveSmallIntegerField(null=True, blank=True)
    phash = models.CharField(max_length=16, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    sharpness = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    # float32 unit vector (library/embeddings.py) of the caption, description and tags, made by
    # `embedding_model`; vectors of another model than the configured one are never searched.
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=64, blank=True, editable=False)
    embedded_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(help_text="When the photo was uploaded or the image generated.")
    analysed_at = models.DateTimeField(null=True, blank=True)
    # When an analysis message was sent that no worker has started yet: while it waits, asking
    # again sends nothing (it will read the latest description), so a queue never holds copies.
    analysis_queued_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = LibraryItemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Never both sources, and never the other kind's. (Not "never none": on MySQL Django
            # clears the source column of a cascaded row before deleting it.)
            models.CheckConstraint(
                condition=(
                    models.Q(kind="photo", generated_image__isnull=True)
                    | models.Q(kind="generated", photo__isnull=True)
                ),
                name="libraryitem_one_source",
            ),
        ]
        # Pages list newest first with the id as tie-break: with the id in the index MariaDB reads
        # one page's rows instead of sorting all the user's items (18,000 items: 7.4 -> 3.2 ms).
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="libraryitem_user_newest_idx")]

    def __str__(self):
        return self.caption or f"{self.get_kind_display()} #{self.id}"

    @property
    def source(self):
        """The photo or generated image this item shows."""
        return self.photo if self.kind == self.Kind.PHOTO else self.generated_image

    @property
    def label(self) -> str:
        """What pages call the item: its caption, else what the owner knows it by (the photo's file
        name, which image of which generation). Display only: never embedded or matched, and the
        caption stays empty when nothing describes the item. Reads the photo or generated image row,
        so lists select_related them."""
        if self.caption:
            return self.caption
        if self.kind == self.Kind.PHOTO and self.photo is not None:
            return self.photo.original_filename or gettext("Untitled photo #%(id)s") % {"id": self.id}
        if self.kind == self.Kind.GENERATED and self.generated_image is not None:
            image = self.generated_image
            return gettext("Image %(number)s of generation #%(generation)s") % {
                "number": image.index + 1,
                "generation": image.generation_id,
            }
        return f"{self.get_kind_display()} #{self.id}"

    @property
    def favourite(self) -> bool:
        image = self.generated_image if self.generated_image_id else None
        return bool(image and image.favourite)

    def search_text(self) -> str:
        """The whole text the embedding is made of: the caption and the description, the user's own
        words. The tags are embedded as phrases (search_phrases); in the whole text as well, their
        English words outweighed a short description, and queries in other languages found less
        (bench/relevance.py, calibration half: other_languages_hit_at_5 0.91 -> 0.96)."""
        return ". ".join(part for part in [self.caption, self.description] if part)

    def search_phrases(self) -> tuple[str, ...]:
        """The short parts embedded on their own next to the whole text (library/embeddings.py): the
        caption and the tags that say what the picture shows. Tags that are facts of the file (kind,
        orientation, a dominant colour, camera, date) stay out: nearly every item has some, and the
        phrases "photo", "landscape" or "grey" shared by many items made unrelated items alike
        (bench/relevance.py: unrelated pairs' mean cosine 0.31 -> 0.25; search within a query)."""
        colours = "black white grey gray red orange yellow green teal blue navy purple pink brown beige"
        facts = {"photo", "generated", "landscape", "portrait", "square", *colours.split(), self.camera.lower()}

        def is_fact(tag: str) -> bool:
            words = tag.split()
            dated = len(words) <= 2 and len(words[-1]) == 4 and words[-1].isdigit()  # "2021", "may 2021"
            return tag.lower() in facts or dated

        return tuple(dict.fromkeys(phrase for phrase in [self.caption, *self.tags] if phrase and not is_fact(phrase)))


class Album(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="albums")
    name = models.CharField(max_length=120)
    items: "models.ManyToManyField[LibraryItem, AlbumItem]" = models.ManyToManyField(
        LibraryItem, through="AlbumItem", related_name="albums"
    )
    cover = models.ForeignKey(LibraryItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name


class AlbumItem(models.Model):
    album = models.ForeignKey(Album, on_delete=models.CASCADE)
    item = models.ForeignKey(LibraryItem, on_delete=models.CASCADE)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["album", "item"], name="albumitem_once")]


class AlbumSuggestion(models.Model):
    """A proposed album from clustering the user's items; accepted, edited or dismissed by them."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", _("Dismissed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="album_suggestions")
    title = models.CharField(max_length=120)
    items = models.ManyToManyField(LibraryItem, related_name="+")
    # Same items, same key: a dismissed suggestion is not proposed again.
    key = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    album = models.ForeignKey(Album, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="albumsuggestion_once")]


def new_share_token() -> str:
    return secrets.token_urlsafe(24)


class ShareLink(models.Model):
    """Read-only, no-login access to one generated image or one album; revocable, may expire."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links")
    token = models.CharField(max_length=64, unique=True, default=new_share_token, editable=False)
    generated_image = models.ForeignKey(
        "generation.GeneratedImage", null=True, blank=True, on_delete=models.CASCADE, related_name="share_links"
    )
    album = models.ForeignKey(Album, null=True, blank=True, on_delete=models.CASCADE, related_name="share_links")
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    views = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Never both (see LibraryItem: cascaded rows may have their column cleared first).
            models.CheckConstraint(
                condition=models.Q(generated_image__isnull=True) | models.Q(album__isnull=True),
                name="sharelink_one_target",
            ),
        ]


class ReembedProgress(models.Model):
    """How far the background re-embed (library.reembed_stale) has come with the configured model:
    one row (id 1). Its lease lets one run at a time work, whether beat's or `manage.py
    library_index`'s, so two workers never embed the same items; `done_at` ends the runs until an
    item goes stale again or the model changes."""

    model = models.CharField(max_length=64)  # the model the items are being brought to
    after_id = models.BigIntegerField(default=0)  # items up to this id are done in this pass
    embedded = models.PositiveBigIntegerField(default=0)  # items re-embedded with this model so far
    done_at = models.DateTimeField(null=True, blank=True)
    # core.leases: the run that works now, until when.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_holder = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "re-embed progress"
