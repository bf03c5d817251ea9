"""Rebuild the photo library's search data: add missing items, re-embed, or re-analyse."""

from django.core.management.base import BaseCommand

from library import index
from library.services import analysis, items


class Command(BaseCommand):
    help = (
        "Rebuild the library's search index: add photos and images that have no item yet, re-embed every "
        "item's text (after a model change), and drop cached indexes. --analyse also re-runs the analysis."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", type=int, help="Only this user id.")
        parser.add_argument("--analyse", action="store_true", help="Queue a fresh analysis of every item too.")

    def handle(self, *args, user=None, analyse=False, **options):
        added = items.library_add_missing(user_id=user)
        embedded = analysis.library_reembed(user_id=user)
        queued = analysis.library_reanalyse(user_id=user) if analyse else 0
        index.forget(user)
        self.stdout.write(f"library: added={added} embedded={embedded} analysis_queued={queued}")
