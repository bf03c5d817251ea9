from django.core.management.base import BaseCommand

from core import i18n


class Command(BaseCommand):
    help = "Re-extract the marked strings and merge them into every shipped language's catalog."

    def handle(self, *args, **options):
        for language, missing in i18n.update_catalogs().items():
            self.stdout.write(f"{language}: {missing} to translate")
