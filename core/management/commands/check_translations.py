from django.core.management.base import BaseCommand, CommandError

from core import i18n


class Command(BaseCommand):
    help = (
        "Fail when a shipped language misses a translation or a placeholder, a catalog is out of date, "
        "or a template holds an unmarked user-facing sentence."
    )

    def handle(self, *args, **options):
        problems = i18n.catalog_problems() + i18n.template_problems()
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"{len(problems)} translation problems (see above)")
        self.stdout.write("translations: complete")
