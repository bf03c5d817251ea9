"""Test settings: the base settings with fast, in-process fakes. Reads no environment itself."""

from .base import *  # noqa: F403
from .base import BASE_DIR, CELERY_BROKER_URL, DATABASES, RATE_LIMITS, REST_FRAMEWORK, filesystem_broker_options

DEBUG = False
# Fast hashing for tests; tests of the bcrypt format restore the real list.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Kept apart from `make run`'s broker so a running dev worker never takes test messages.
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(BASE_DIR / "var" / "test-broker")
SITE_URL = "http://testserver"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# Serve static files from the finders; tests never run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not the in-memory default: threads in tests then lock and wait as web and worker
    # processes do in production, instead of failing with "database table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test-db.sqlite3")}

# Far above what any test does, so only the tests of the limits (which lower them) ever meet one.
RATE_LIMITS = dict.fromkeys(RATE_LIMITS, "10000/minute")
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "10000/minute", "user": "10000/minute"}}
