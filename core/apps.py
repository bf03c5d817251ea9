from django.apps import AppConfig
from django.urls import register_converter


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from core.converters import IdConverter

        # Before any URL conf is imported: every app's object ids use <id:...>.
        register_converter(IdConverter, "id")
