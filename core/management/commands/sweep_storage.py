from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from core.storage import storage_sweep


class Command(BaseCommand):
    help = "Delete stored files that no record names (left behind by killed workers)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=settings.STORAGE_SWEEP_AFTER_HOURS * 60,
            help="Only files at least this old (default: STORAGE_SWEEP_AFTER_HOURS).",
        )

    def handle(self, *args, older_than_minutes: int, **options):
        removed = storage_sweep(older_than=timedelta(minutes=older_than_minutes))
        for name in removed:
            self.stdout.write(f"removed {name}")
        self.stdout.write(f"sweep: removed={len(removed)}")
