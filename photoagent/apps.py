from django.contrib.admin import apps as admin_apps


class PhotoAgentAdminConfig(admin_apps.AdminConfig):
    """The Django admin, on our site class (which adds the background-work page)."""

    default_site = "photoagent.admin.PhotoAgentAdminSite"
