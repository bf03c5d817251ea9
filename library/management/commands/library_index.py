"""Rebuild the photo library's search data: add missing items, re-embed, or re-analyse."""

import time

from django.core.management.base import BaseCommand, CommandError

from library import embeddings, index
from library.services import analysis, items

PROGRESS_EVERY_SECONDS = 10.0


class Command(BaseCommand):
    help = (
        "Bring the library's search data up to date: add photos and images that have no item yet, and "
        "re-embed the items whose vector another model made (after an upgrade or a change of "
        "LIBRARY_EMBEDDING_BACKEND), in batches. Safe to interrupt and run again: it goes on with "
        "the items left. --all re-embeds every item; --analyse also re-runs the analysis."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", type=int, help="Only this user id.")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help="Re-embed every analysed item, not only the stale ones (run again, it starts over).",
        )
        parser.add_argument("--analyse", action="store_true", help="Queue a fresh analysis of every item too.")
        parser.add_argument("--batch-size", type=int, default=analysis.REEMBED_BATCH, help="Items per model call.")

    def handle(self, *args, user=None, everything=False, analyse=False, batch_size=analysis.REEMBED_BATCH, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        added = items.library_add_missing(user_id=user)
        started = time.monotonic()
        progress = {"embedded": 0, "shown_at": started}

        def show(embedded: int) -> None:
            progress["embedded"] = embedded
            now = time.monotonic()
            if now - progress["shown_at"] >= PROGRESS_EVERY_SECONDS:
                progress["shown_at"] = now
                self.stdout.write(f"re-embedded {embedded} items ({embedded / (now - started):.1f} items/s)")

        try:
            result = self._reembed(user=user, everything=everything, batch_size=batch_size, on_batch=show)
        except KeyboardInterrupt:
            raise CommandError(
                f"Interrupted after re-embedding {progress['embedded']} items; they are kept, and running "
                "the command again goes on with the rest.",
                returncode=130,
            ) from None
        seconds = time.monotonic() - started
        queued = analysis.library_reanalyse(user_id=user) if analyse else 0
        index.forget(user)
        rate = f"{result.embedded / seconds:.1f}" if seconds > 0 else "-"
        self.stdout.write(
            f"library: added={added} embedded={result.embedded} stale={result.stale} analysis_queued={queued} "
            f"model={embeddings.model_id()} seconds={seconds:.1f} items_per_second={rate}"
        )

    def _reembed(self, *, user, everything, batch_size, on_batch) -> analysis.Reembedded:
        # A beat run holds the lease for one bounded step at most: wait for it rather than fail.
        deadline = time.monotonic() + analysis.REEMBED_LEASE_SECONDS
        waiting = False
        while True:
            try:
                return analysis.library_reembed(
                    user_id=user, everything=everything, batch_size=batch_size, on_batch=on_batch
                )
            except analysis.ReembedBusy as busy:
                if time.monotonic() > deadline:
                    raise CommandError(f"{busy} Try again once it has finished.") from busy
                if not waiting:
                    self.stdout.write("waiting for the background re-embed to finish its step…")
                    waiting = True
                time.sleep(2)
