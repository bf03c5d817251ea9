"""Rebuild the photo library's search data: add missing items, re-embed, or re-analyse."""

from django.core.management.base import BaseCommand

from generation.models import GeneratedImage
from library import embeddings, index
from library.models import LibraryItem
from projects.models import Photo


class Command(BaseCommand):
    help = (
        "Rebuild the library's search index: add photos and images that have no item yet, re-embed every "
        "item's text (after a model change), and drop cached indexes. --analyse also re-runs the analysis."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", type=int, help="Only this user id.")
        parser.add_argument("--analyse", action="store_true", help="Queue a fresh analysis of every item too.")

    def handle(self, *args, user=None, analyse=False, **options):
        from library import services
        from library.tasks import analyse_item

        photos = Photo.objects.filter(status=Photo.Status.READY, library_item__isnull=True)
        images = GeneratedImage.objects.filter(library_item__isnull=True)
        if user:
            photos = photos.filter(project__owner_id=user)
            images = images.filter(generation__user_id=user)
        added = 0
        for photo_id in photos.values_list("id", flat=True).iterator():
            added += services.item_add_photo(photo_id=photo_id) is not None
        for image_id in images.values_list("id", flat=True).iterator():
            added += services.item_add_generated(image_id=image_id) is not None
        items = LibraryItem.objects.filter(status=LibraryItem.Status.DONE)
        if user:
            items = items.filter(user_id=user)
        embedded = 0
        batch: list[LibraryItem] = []
        for item in items.defer("embedding").iterator(chunk_size=500):
            batch.append(item)
            if len(batch) == 64:
                embedded += self._embed(batch)
                batch = []
        embedded += self._embed(batch)
        if analyse:
            for item_id in items.values_list("id", flat=True):
                analyse_item.delay(item_id)
        index.forget(user)
        self.stdout.write(
            f"library: added={added} embedded={embedded} analysis_queued={items.count() if analyse else 0}"
        )

    @staticmethod
    def _embed(batch: list[LibraryItem]) -> int:
        from django.utils import timezone

        if not batch:
            return 0
        vectors = embeddings.embed([item.search_text() for item in batch])
        now = timezone.now()
        for item, vector in zip(batch, vectors, strict=True):
            LibraryItem.objects.filter(id=item.id).update(embedding=embeddings.to_bytes(vector), embedded_at=now)
        return len(batch)
