from django.conf import settings


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "DEMO_MODE": settings.DEMO_MODE,
        # Every delete button and confirm says how long the trash keeps what it deletes.
        "TRASH_RETENTION_DAYS": settings.TRASH_RETENTION_DAYS,
    }
