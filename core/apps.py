from django.apps import AppConfig
from django.urls import register_converter

from core.converters import IdConverter


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        # Not at the top: it imports django-axes' models, which need the app registry loaded.
        from core.ratelimit import check_rates

        # A mistyped rate stops the start, rather than the first sign-up.
        check_rates()

        # Before any URL conf is imported: every app's object ids use <id:...>.
        register_converter(IdConverter, "id")
