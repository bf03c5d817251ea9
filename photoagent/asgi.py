"""The ASGI application: HTTP through Django, WebSockets (live pages) through Channels.

Served by uvicorn: `make run` (one process), gunicorn's uvicorn workers in production.
"""

import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photoagent.settings.base")
# whitenoise streams static files from a sync iterator, which Django's ASGI handler reads in a
# thread: correct, and said on every request.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")
# Django first: the routing below imports models.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from photoagent.live_urls import websocket_urlpatterns  # noqa: E402

if settings.DEBUG:
    # `make run` serves static files as runserver did (finders, no collectstatic).
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

    http_application = ASGIStaticFilesHandler(django_application)
else:
    http_application = django_application

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# As photoagent/wsgi.py: gunicorn's (uvicorn) workers import this before they take requests, so load
# what the first requests would otherwise wait for (every view module, and the search model).
from django.urls import get_resolver  # noqa: E402

from library.embeddings import preload  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - imports the URL conf and with it every view
preload()
