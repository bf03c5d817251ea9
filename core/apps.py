from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"


class PhotoAgentAdminConfig(admin_apps.AdminConfig):
    """The Django admin, on our site class (which adds the background-work page)."""

    # Not what "core" in INSTALLED_APPS means: that stays CoreConfig.
    default = False
    default_site = "core.admin.PhotoAgentAdminSite"
