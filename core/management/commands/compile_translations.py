from django.core.management.base import BaseCommand

from core import i18n


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po to the .mo files Django reads."

    def handle(self, *args, **options):
        written = i18n.compile_catalogs()
        self.stdout.write(f"compiled {len(written)} catalogs")
