from django.conf import settings


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "DEMO_MODE": settings.DEMO_MODE,
        # Every delete button and confirm says how long the trash keeps what it deletes.
        "TRASH_RETENTION_DAYS": settings.TRASH_RETENTION_DAYS,
        # Live pages poll this often while their WebSocket is down (static/js/app.js).
        "LIVE_FALLBACK_POLL_SECONDS": settings.LIVE_FALLBACK_POLL_SECONDS,
        "LIVE_WEBSOCKET_URL": settings.LIVE_WEBSOCKET_URL or "/ws/live/",
    }
