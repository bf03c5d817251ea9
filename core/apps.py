from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.urls import register_converter


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from core.converters import IdConverter
        from core.ratelimit import check_rates

        # A mistyped rate stops the start, rather than the first sign-up.
        check_rates()

        # Before any URL conf is imported: every app's object ids use <id:...>.
        register_converter(IdConverter, "id")


class PhotoAgentAdminConfig(admin_apps.AdminConfig):
    """The Django admin, on our site class (which adds the background-work page)."""

    # Not what "core" in INSTALLED_APPS means: that stays CoreConfig.
    default = False
    default_site = "core.admin.PhotoAgentAdminSite"
