import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photoagent.settings.base")
application = get_wsgi_application()

# Gunicorn imports this module in each worker before the worker takes requests: load here what the
# first requests would otherwise wait for (every view module, and the search model), or a fresh
# worker answers its first searches in seconds.
from django.urls import get_resolver  # noqa: E402

from library.embeddings import preload  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - imports the URL conf and with it every view
preload()
