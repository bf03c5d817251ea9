"""PhotoAgent settings: the one module that reads the environment.

With nothing set, the app runs on the embedded default: SQLite and media under DATA_DIR, a
filesystem Celery broker, console email and demo mode for the AI providers. Every variable is
listed, with a comment, in `.env.example`.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# A .env file (ENV_FILE, by default the one beside manage.py) fills in variables the environment
# does not set: a variable set in the environment always wins. The test settings never read it,
# so a developer's .env cannot change what the test suite sees.
ENV_FILE = env.str("ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file() and os.environ.get("DJANGO_SETTINGS_MODULE") != "photoagent.settings.test":
    environ.Env.read_env(ENV_FILE, overwrite=False)

# ENVIRONMENT
# ------------------------------------------------------------------------------
DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in ("development", "production"):
    raise ImproperlyConfigured(f"DJANGO_ENV={DJANGO_ENV!r}: use 'development' or 'production'.")
IS_PRODUCTION = DJANGO_ENV == "production"

if IS_PRODUCTION:
    _missing = [
        name for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL") if not env.str(name, default="")
    ]
    if _missing:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production needs these environment variables, which are not set: "
            + ", ".join(_missing)
            + ". See .env.example."
        )

# A development-only key; production refuses to start without its own (checked above).
SECRET_KEY = env.str("SECRET_KEY", default="") or "dev-only-insecure-key-do-not-use-in-production-0123456789"
# Previous keys, still accepted for what they signed (sessions, reset and verification links) while
# a new SECRET_KEY takes over: see docs/operations.md, "Rotating secrets".
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# Keys anyone can read in this repository (the development default above, and the tests' and
# benchmarks'): with one, anyone can forge sessions, reset links and LoRA download links.
PUBLIC_SECRET_KEYS = frozenset(
    {
        "dev-only-insecure-key-do-not-use-in-production-0123456789",
        "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
        "chaos-" + "k" * 60,
    }
)


def secret_key_weakness(key: str) -> str | None:
    """Why production must not sign with this key, or None. Length and variety are Django's own
    deployment check (security.W009), which only warns."""
    if key in PUBLIC_SECRET_KEYS:
        return "is a public key from this repository"
    if key.startswith("django-insecure-"):
        return "is a key Django generated for development ('django-insecure-')"
    if len(key) < 50 or len(set(key)) < 5:
        return "is too weak (use at least 50 characters, at least 5 of them different)"
    return None


if IS_PRODUCTION:
    # Fallbacks verify signatures too: a weak one is as forgeable as a weak SECRET_KEY.
    for _name, _key in [("SECRET_KEY", SECRET_KEY), *(("SECRET_KEY_FALLBACKS", key) for key in SECRET_KEY_FALLBACKS)]:
        if _weakness := secret_key_weakness(_key):
            raise ImproperlyConfigured(
                f"DJANGO_ENV=production: a key in {_name} {_weakness}. Generate a new one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(50))' (see docs/operations.md, "
                '"Rotating secrets").'
            )
# Django's debug pages (tracebacks, the URL list on a 404) only when a developer asks for them:
# `make run` shows the product's own error pages, as users see them.
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

# Where `make run` serves the web process (the development server).
RUN_HOST = env.str("HOST", default="127.0.0.1")
RUN_PORT = env.int("PORT", default=8000)
# A wildcard address listens everywhere; links still need a host one can open.
_link_host = "127.0.0.1" if RUN_HOST in ("0.0.0.0", "::", "[::]") else RUN_HOST  # noqa: S104 - a comparison
if ":" in _link_host and not _link_host.startswith("["):
    _link_host = f"[{_link_host}]"  # an IPv6 address, as URLs write it
# Public base URL of the site, used in emails (and later in provider webhooks).
SITE_URL = (env.str("SITE_URL", default="") or f"http://{_link_host}:{RUN_PORT}").rstrip("/")
SITE_NAME = "PhotoAgent"

# Where the embedded default keeps its SQLite database, media and broker files.
DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "var")))
if not IS_PRODUCTION:
    # SQLite and the filesystem broker need the folder; a fresh clone has none.
    DATA_DIR.mkdir(parents=True, exist_ok=True)

# APPS
# ------------------------------------------------------------------------------
INSTALLED_APPS = [
    # django.contrib.admin on our own site class, which adds the background-work page (photoagent/admin.py).
    "photoagent.apps.PhotoAgentAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # naturaltime: "3 days ago" declined the way each language needs ("vor 3 Tagen").
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "core",
    "accounts",
    "projects",
    "training",
    "generation",
    "library",
]

MIDDLEWARE = [
    # First: every response, redirects included, carries the request id, and every log line too.
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware: the language from the cookie or Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    # Before CommonMiddleware: API paths without their trailing slash are served, never redirected.
    "core.api.middleware.ApiPathMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a signed-in user's saved language wins (else the browser's, noted on the
    # account for later emails); the API follows Accept-Language only.
    "accounts.middleware.UserLanguageMiddleware",
    # After authentication: logged-in pages and API answers are marked private (core/middleware.py).
    "core.middleware.CacheControlMiddleware",
    # A stored file missing from storage answers a 410 page, not a 500 (core/files.py).
    "core.middleware.StoredFileMissingMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: a service's refusal on a website page becomes an error message (core/middleware.py).
    "core.middleware.RefusalMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "photoagent.urls"
WSGI_APPLICATION = "photoagent.wsgi.application"
ASGI_APPLICATION = "photoagent.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
]

# DATABASE  https://docs.djangoproject.com/en/5.2/ref/databases/
# ------------------------------------------------------------------------------
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.mysql":
    _db["OPTIONS"] = {
        "charset": "utf8mb4",
        "init_command": "SET sql_mode='STRICT_TRANS_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO'",
        "isolation_level": "read committed",
        **_db.get("OPTIONS", {}),
    }
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    # Kept for a minute: the pages' threaded WSGI workers reuse them (a MariaDB connect per request
    # was most of make load's page p95). The live server's reads run in a bounded thread pool.
    _db["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers run beside the one writer, and
    # IMMEDIATE transactions wait for the lock instead of failing with "database is locked".
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# CACHE AND REDIS
# ------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis being down reads as a cache miss, not an error page: nothing we cache is the only
            # copy (the webhook secret is fetched again). Each ignored error is logged.
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2, "IGNORE_EXCEPTIONS": True},
        },
        # Rate-limit and API throttle counts. This one raises when Redis is down: core.ratelimit
        # then counts per process, so the limits hold through the outage.
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "ratelimit",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"},
    }

# LIVE PAGES  https://channels.readthedocs.io/en/stable/topics/channel_layers.html
# ------------------------------------------------------------------------------
# Events go through Redis between processes in production. The embedded default has no server:
# an in-memory layer carries the web process's own events, and each connection also reads the
# event log (projects.ProjectEvent) every LIVE_CATCHUP_SECONDS for those of the workers.
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
LIVE_LAYER_SHARED = bool(REDIS_URL)
LIVE_CATCHUP_SECONDS = float(env.str("LIVE_CATCHUP_SECONDS", default="") or (30.0 if REDIS_URL else 0.5))
# Where pages open the live WebSocket. Empty: this site's own /ws/live/ (make run's uvicorn serves
# both, or a proxy routes /ws/ to the `live` server). Else the live server's full ws(s):// URL, for a
# stack without such a proxy (docker-compose on a laptop: ws://localhost:8001/ws/live/).
LIVE_WEBSOCKET_URL = env.str("LIVE_WEBSOCKET_URL", default="")
# A page whose live connection drops polls its parts this often until it reconnects.
LIVE_FALLBACK_POLL_SECONDS = env.float("LIVE_FALLBACK_POLL_SECONDS", default=3.0)
# Events of the live log that are not in the activity feed are deleted after this many days.
LIVE_EVENT_RETENTION_DAYS = env.int("LIVE_EVENT_RETENTION_DAYS", default=2)

# TEAMS
# ------------------------------------------------------------------------------
INVITATION_EXPIRY_DAYS = env.int("INVITATION_EXPIRY_DAYS", default=7)
PROJECT_MEMBERS_MAX = env.int("PROJECT_MEMBERS_MAX", default=20)

# CELERY  https://docs.celeryq.dev/en/stable/userguide/configuration.html
# ------------------------------------------------------------------------------
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# Redis re-delivers a task that is not acked within the visibility timeout; it must exceed the
# longest task (and any countdown), or long tasks would run again while still running.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=7200)
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must be larger than CELERY_TASK_TIME_LIMIT.")
# Hard time limits of the tasks that start paid or visible work at a provider (a training, a
# prediction, a Hub upload, an email). Each such task holds a lease on its run or job for that
# long: an attempt re-driven by the reconcile tasks never overlaps one that is still alive, and
# one whose worker was killed is taken over once its lease runs out. The tasks take their limits
# from here where they are defined (core.tasks.provider_task).
PROVIDER_TASK_TIME_LIMITS = {
    "training.submit_training": env.int("TRAINING_SUBMIT_TIME_LIMIT", default=360),
    "training.publish_lora": env.int("TRAINING_PUBLISH_TIME_LIMIT", default=1800),
    "training.notify_owner": env.int("EMAIL_TASK_TIME_LIMIT", default=60),
    "generation.run_generation": env.int("GENERATION_SUBMIT_TIME_LIMIT", default=660),
}
# Longest wait between retries of a task after a provider error (seconds); tasks may cap it lower.
PROVIDER_RETRY_BACKOFF_MAX = env.int("PROVIDER_RETRY_BACKOFF_MAX", default=600)
# How long work may look stalled (queued and never picked up, or a step that stopped without
# finishing) before the reconcile tasks re-drive it: what a lost message or a restarted broker costs.
REDRIVE_AFTER_SECONDS = env.int("REDRIVE_AFTER_SECONDS", default=120)
# Stored files that no record names (left by killed workers) are deleted once this old; it must
# exceed the longest task, which may have stored a file it has yet to record.
STORAGE_SWEEP_AFTER_HOURS = env.int("STORAGE_SWEEP_AFTER_HOURS", default=6)
# Deleted photos and images wait this many days in the trash (restorable) before a periodic task
# removes them and their stored files for good.
TRASH_RETENTION_DAYS = env.int("TRASH_RETENTION_DAYS", default=30)
if TRASH_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("TRASH_RETENTION_DAYS must be at least 1.")


# How often the embedded default's workers look for messages (kombu's filesystem transport).
EMBEDDED_BROKER_POLLING_SECONDS = env.float("EMBEDDED_BROKER_POLLING_SECONDS", default=0.05)


def filesystem_broker_options(folder: Path) -> dict:
    """Transport options for kombu's filesystem broker, which needs no server."""
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        # Broadcast (control) messages; the default is a folder in the working directory.
        "control_folder": str(folder / "control"),
        "store_processed": False,
        # Seconds a worker sleeps when it finds no message it can take. kombu's default (1 s) held
        # each worker to about one message a second: with a few projects, polls and analyses lagged
        # by minutes. Measured by `make bench-embedded`.
        "polling_interval": EMBEDDED_BROKER_POLLING_SECONDS,
    }


if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
else:
    # kombu's filesystem transport, with messages written and taken atomically: photoagent/celery.py
    # makes "filesystem://" mean core.broker's.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(DATA_DIR / "broker")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# State lives in database rows; nobody reads task results.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# Tasks are idempotent, so a task lost with its worker is re-delivered rather than dropped.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 10
CELERY_TASK_DEFAULT_QUEUE = "default"
# A worker started without -Q consumes all three; production runs one worker pool per queue.
CELERY_TASK_QUEUES = (Queue("default"), Queue("training"), Queue("generation"), Queue("library"))
CELERY_TASK_ROUTES = {
    "training.*": {"queue": "training"},
    "generation.*": {"queue": "generation"},
    "library.*": {"queue": "library"},
}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # https://crontab.guru/#17_3_*_*_*
    "training-reconcile": {
        "task": "training.reconcile_runs",
        "schedule": 10.0,
    },
    "generation-reconcile": {
        "task": "generation.reconcile_jobs",
        "schedule": 15.0,
    },
    "library-reconcile": {
        "task": "library.reconcile_items",
        "schedule": 60.0,
    },
    # Items embedded by another model than the configured one (after an upgrade) are re-embedded
    # a bounded batch at a time.
    "library-reembed-stale": {
        "task": "library.reembed_stale",
        "schedule": 30.0,
    },
    "photos-reconcile": {
        "task": "projects.reconcile_photos",
        "schedule": 30.0,
    },
    "accounts-reconcile-emails": {
        "task": "accounts.reconcile_emails",
        "schedule": 60.0,
    },
    # https://crontab.guru/#37_4_*_*_*
    "storage-sweep": {
        "task": "core.sweep_storage",
        "schedule": crontab(minute=37, hour=4),
    },
    # https://crontab.guru/#47_*_*_*_*
    "photos-purge-trash": {
        "task": "projects.purge_trashed_photos",
        "schedule": crontab(minute=47),
    },
    "images-purge-trash": {
        "task": "generation.purge_trashed_images",
        "schedule": crontab(minute=52),
    },
    # Events only the live pages used (LIVE_EVENT_RETENTION_DAYS).
    "projects-purge-live-events": {
        "task": "projects.purge_live_events",
        "schedule": crontab(minute=27, hour=4),
    },
    "accounts-purge-unverified": {
        "task": "accounts.purge_unverified_accounts",
        "schedule": crontab(minute=17, hour=3),
    },
}

# STORAGE  https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
# ------------------------------------------------------------------------------
MEDIA_ROOT = DATA_DIR / "media"
# Media is private: it is never served from a public URL (owner-checked views or presigned URLs).
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
# Where collectstatic gathers the files whitenoise serves (the load benchmark uses its own).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default="") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
# Private name: django-storages reads a setting called AWS_S3_ENDPOINT_URL, and "" is not an endpoint.
_s3_endpoint_url = env.str("AWS_S3_ENDPOINT_URL", default="")
# Lifetime of presigned download URLs, in seconds.
MEDIA_URL_EXPIRY_SECONDS = env.int("MEDIA_URL_EXPIRY_SECONDS", default=300)
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": _s3_endpoint_url or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "signature_version": "s3v4",
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="auto"),
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": MEDIA_URL_EXPIRY_SECONDS,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if not IS_PRODUCTION:
    # Development (`make run`, DEBUG or not) serves static files straight from the source folders,
    # picking up edits, with no collectstatic.
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True

# PROJECTS AND PHOTOS
# ------------------------------------------------------------------------------
# A project trains on this many photos; the product promises 15.
PROJECT_PHOTOS_MIN = env.int("PROJECT_PHOTOS_MIN", default=15)
PROJECT_PHOTOS_MAX = env.int("PROJECT_PHOTOS_MAX", default=15)
if not 1 <= PROJECT_PHOTOS_MIN <= PROJECT_PHOTOS_MAX:
    raise ImproperlyConfigured("Need 1 <= PROJECT_PHOTOS_MIN <= PROJECT_PHOTOS_MAX.")
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=40 * 1024 * 1024)
# Images with more pixels are refused from their header, before any decoding.
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=64_000_000)
PHOTO_UPLOAD_MAX_FILES = env.int("PHOTO_UPLOAD_MAX_FILES", default=20)
# Short side below the minimum is refused; below the recommended size it is a warning.
PHOTO_MIN_SIDE = env.int("PHOTO_MIN_SIDE", default=512)
PHOTO_RECOMMENDED_SIDE = env.int("PHOTO_RECOMMENDED_SIDE", default=1024)
# Perceptual-hash distance (of 64 bits) at or under which two photos are near-duplicates.
PHOTO_NEAR_DUPLICATE_DISTANCE = env.int("PHOTO_NEAR_DUPLICATE_DISTANCE", default=8)
# Variance of the Laplacian (on a 512 px greyscale copy) under which a photo looks blurry.
PHOTO_BLUR_THRESHOLD = env.float("PHOTO_BLUR_THRESHOLD", default=60.0)
# Face descriptors further apart than this are treated as different people (dlib's own threshold).
FACE_MATCH_DISTANCE = env.float("FACE_MATCH_DISTANCE", default=0.6)
# Beyond our own per-upload limit (which answers with a clear message), Django refuses outright.
DATA_UPLOAD_MAX_NUMBER_FILES = 200
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Django's two handlers; the disk one names its temporary file so a long extension cannot break it.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "core.uploads.TemporaryFileUploadHandler",
]

# EMAIL
# ------------------------------------------------------------------------------
SENDGRID_API_KEY = env.str("SENDGRID_API_KEY", default="")
# Base URL of the SendGrid API; the client appends /v3/mail/send.
SENDGRID_API_HOST = env.str("SENDGRID_API_HOST", default="https://api.sendgrid.com")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
_email_backend = (
    "integrations.sendgrid.SendGridEmailBackend"
    if SENDGRID_API_KEY
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="") or _email_backend
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="PhotoAgent <noreply@photoagent.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# AI PROVIDERS  https://replicate.com/docs/reference/http
# ------------------------------------------------------------------------------
REPLICATE_API_TOKEN = env.str("REPLICATE_API_TOKEN", default="")
# The client appends /v1/...: a host only, no path.
REPLICATE_BASE_URL = env.str("REPLICATE_BASE_URL", default="https://api.replicate.com")
REPLICATE_TIMEOUT = env.float("REPLICATE_TIMEOUT", default=30.0)
# The Replicate account (user or organisation) that owns the private destination models.
REPLICATE_OWNER = env.str("REPLICATE_OWNER", default="")
REPLICATE_TRAINER_MODEL = env.str("REPLICATE_TRAINER_MODEL", default="ostris/flux-dev-lora-trainer")
REPLICATE_TRAINER_VERSION = env.str(
    "REPLICATE_TRAINER_VERSION", default="26dce37af90b9d997eeb970d92e47de3064d46c300504ae376c75bef6a9022d2"
)
# Empty: fetched from GET /v1/webhooks/default/secret and cached for REPLICATE_SECRET_CACHE_SECONDS.
# A signature that does not match makes us fetch it again (a rotation), at most once per
# REPLICATE_SECRET_REFRESH_SECONDS; a failed fetch is remembered for REPLICATE_SECRET_FAILURE_SECONDS.
REPLICATE_WEBHOOK_SECRET = env.str("REPLICATE_WEBHOOK_SECRET", default="")
REPLICATE_SECRET_CACHE_SECONDS = env.int("REPLICATE_SECRET_CACHE_SECONDS", default=3600)
REPLICATE_SECRET_REFRESH_SECONDS = env.int("REPLICATE_SECRET_REFRESH_SECONDS", default=60)
REPLICATE_SECRET_FAILURE_SECONDS = env.int("REPLICATE_SECRET_FAILURE_SECONDS", default=15)
# The largest output accepted inline as a data: URI (a LoRA tar or an image), decoded.
REPLICATE_DATA_URI_MAX_BYTES = env.int("REPLICATE_DATA_URI_MAX_BYTES", default=64 * 1024 * 1024)
HF_TOKEN = env.str("HF_TOKEN", default="")
HF_ENDPOINT = env.str("HF_ENDPOINT", default="https://huggingface.co")
# The Hub user or organisation that owns the private LoRA repos.
HF_NAMESPACE = env.str("HF_NAMESPACE", default="")
# With no provider configured, training and generation are simulated and labelled as such.
DEMO_MODE = not REPLICATE_API_TOKEN
if REPLICATE_API_TOKEN and not REPLICATE_OWNER:
    raise ImproperlyConfigured("REPLICATE_API_TOKEN is set: also set REPLICATE_OWNER (the account owning the models).")
if HF_TOKEN and not HF_NAMESPACE:
    raise ImproperlyConfigured("HF_TOKEN is set: also set HF_NAMESPACE (the Hub user or organisation for LoRA repos).")

# TRAINING
# ------------------------------------------------------------------------------
TRAINING_BACKEND = env.str("TRAINING_BACKEND", default="") or (
    "training.backends.demo.DemoTrainingBackend"
    if DEMO_MODE
    else "training.backends.replicate.ReplicateTrainingBackend"
)
# What a GPU second of training costs, and how long a step takes, for estimates before training.
TRAINING_GPU_PRICE_PER_SECOND = env.float("TRAINING_GPU_PRICE_PER_SECOND", default=0.001528)
TRAINING_SECONDS_PER_STEP = env.float("TRAINING_SECONDS_PER_STEP", default=0.6)
# Default per-user limits; operators override them per user in the admin.
TRAINING_RUNS_PER_DAY = env.int("TRAINING_RUNS_PER_DAY", default=3)
TRAINING_MONTHLY_SPEND = env.float("TRAINING_MONTHLY_SPEND", default=25.0)
# Seconds between polls of an active run when no webhook arrives: doubling with each real poll
# up to a cap per status (a queued GPU can take long to start; a running training is followed closely).
TRAINING_POLL_SECONDS = env.int("TRAINING_POLL_SECONDS", default=60 if not DEMO_MODE else 3)
TRAINING_POLL_MAX_SECONDS = {
    "starting": env.int("TRAINING_STARTING_POLL_MAX_SECONDS", default=300),
    "training": env.int("TRAINING_TRAINING_POLL_MAX_SECONDS", default=120),
}
# How long the provider may train (the "training" status' deadline).
TRAINING_DEADLINE_HOURS = env.int("TRAINING_DEADLINE_HOURS", default=6)
# Every status of a run ends: past its deadline (minutes in that status) the run fails with what
# went wrong in that status, and the owner is emailed. Publishing counts from the provider's end.
TRAINING_STATE_DEADLINE_MINUTES = {
    "queued": env.int("TRAINING_QUEUED_DEADLINE_MINUTES", default=30),
    "submitting": env.int("TRAINING_SUBMITTING_DEADLINE_MINUTES", default=30),
    "starting": env.int("TRAINING_STARTING_DEADLINE_MINUTES", default=60),
    "training": TRAINING_DEADLINE_HOURS * 60,
    "publishing": env.int("TRAINING_PUBLISHING_DEADLINE_MINUTES", default=30),
}
# Past this many minutes in a status (before its deadline) the run page says the wait is longer
# than usual; "training" uses the run's own estimate instead.
TRAINING_STATE_USUAL_MINUTES = {"queued": 2, "submitting": 5, "starting": 10, "publishing": 5}
# Tries of one step (submit, publish, email) across every message and re-drive; then it ends.
# (Above the tasks' own retries, which normally end a step first: this bounds the re-drives.)
TRAINING_STEP_ATTEMPTS = env.int("TRAINING_STEP_ATTEMPTS", default=12)
TRAINING_MAX_WEIGHTS_BYTES = env.int("TRAINING_MAX_WEIGHTS_BYTES", default=2 * 1024**3)
# How long a simulated (demo) training takes.
DEMO_TRAINING_SECONDS = env.int("DEMO_TRAINING_SECONDS", default=30)

# GENERATION
# ------------------------------------------------------------------------------
# Images from a trained LoRA: Replicate's black-forest-labs/flux-dev-lora, or the demo simulator.
GENERATION_BACKEND = env.str("GENERATION_BACKEND", default="") or (
    "generation.backends.demo.DemoGenerationBackend"
    if DEMO_MODE
    else "generation.backends.replicate.ReplicateGenerationBackend"
)
# Images from the base FLUX.1-dev model: Hugging Face Inference when a Hub token is set.
GENERATION_BASE_BACKEND = env.str("GENERATION_BASE_BACKEND", default="") or (
    "generation.backends.demo.DemoGenerationBackend"
    if DEMO_MODE
    else (
        "generation.backends.huggingface.HuggingFaceGenerationBackend"
        if HF_TOKEN
        else "generation.backends.replicate.ReplicateGenerationBackend"
    )
)
REPLICATE_GENERATION_MODEL = env.str("REPLICATE_GENERATION_MODEL", default="black-forest-labs/flux-dev-lora")
# How long the create request is held open (Prefer: wait=N, 1-60 s) before webhooks and polling
# take over, and the provider-side deadline after which Replicate stops the prediction.
REPLICATE_GENERATION_WAIT_SECONDS = env.int("REPLICATE_GENERATION_WAIT_SECONDS", default=10)
if not 1 <= REPLICATE_GENERATION_WAIT_SECONDS <= 60:
    raise ImproperlyConfigured("REPLICATE_GENERATION_WAIT_SECONDS must be between 1 and 60.")
GENERATION_DEADLINE_MINUTES = env.int("GENERATION_DEADLINE_MINUTES", default=10)
# Every phase of a job ends: past its deadline (minutes in that phase) the job fails (keeping any
# image already stored). "running" is a little past the provider's own Cancel-After deadline.
GENERATION_STATE_DEADLINE_MINUTES = {
    "queued": env.int("GENERATION_QUEUED_DEADLINE_MINUTES", default=10),
    # Above the submit task's time limit, so a synchronous provider's render is never cut short.
    "submitting": env.int("GENERATION_SUBMITTING_DEADLINE_MINUTES", default=12),
    "running": GENERATION_DEADLINE_MINUTES + 2,
    "collecting": env.int("GENERATION_COLLECTING_DEADLINE_MINUTES", default=15),
}
GENERATION_STATE_USUAL_MINUTES = {"queued": 1, "submitting": 2, "running": 3, "collecting": 2}
# Tries of one step (submit, store the images) across every message and re-drive; then it ends.
# (Above the tasks' own retries, which normally end a step first: this bounds the re-drives.)
GENERATION_STEP_ATTEMPTS = env.int("GENERATION_STEP_ATTEMPTS", default=10)
# The hf-inference endpoint of FLUX.1-dev; the client posts the prompt to it as is.
HF_INFERENCE_URL = env.str(
    "HF_INFERENCE_URL", default="https://router.huggingface.co/hf-inference/models/black-forest-labs/FLUX.1-dev"
)
HF_INFERENCE_TIMEOUT = env.float("HF_INFERENCE_TIMEOUT", default=120.0)
# Prompts typed in another language are translated to English before they are sent (FLUX.1-dev
# reads English best). Hugging Face Inference's chat completion with an instruction model when a Hub
# token is set; without one (demo mode) prompts go as typed and the page says they were not translated.
PROMPT_TRANSLATION_BACKEND = env.str("PROMPT_TRANSLATION_BACKEND", default="") or (
    "generation.backends.translation.HuggingFaceTranslationBackend"
    if HF_TOKEN
    else "generation.backends.translation.NoTranslationBackend"
)
HF_TRANSLATION_MODEL = env.str("HF_TRANSLATION_MODEL", default="Qwen/Qwen2.5-7B-Instruct")
# Empty: Hugging Face's router for HF_TRANSLATION_MODEL; or your own OpenAI-compatible endpoint.
HF_TRANSLATION_BASE_URL = env.str("HF_TRANSLATION_BASE_URL", default="")
HF_TRANSLATION_TIMEOUT = env.float("HF_TRANSLATION_TIMEOUT", default=20.0)
# What one image costs (flux-dev-lora bills per output image), for estimates and the spend limit.
GENERATION_PRICE_PER_IMAGE = env.float("GENERATION_PRICE_PER_IMAGE", default=0.032)
# Default per-user limits; operators override them per user in the admin.
GENERATION_CONCURRENT_JOBS = env.int("GENERATION_CONCURRENT_JOBS", default=2)
GENERATION_IMAGES_PER_DAY = env.int("GENERATION_IMAGES_PER_DAY", default=100)
GENERATION_MONTHLY_SPEND = env.float("GENERATION_MONTHLY_SPEND", default=20.0)
GENERATION_PROMPT_MAX_CHARS = env.int("GENERATION_PROMPT_MAX_CHARS", default=1000)
# Seconds between polls of a running job without a webhook, and the largest image we download.
GENERATION_POLL_SECONDS = env.float("GENERATION_POLL_SECONDS", default=2.0)
GENERATION_MAX_IMAGE_BYTES = env.int("GENERATION_MAX_IMAGE_BYTES", default=25 * 1024 * 1024)
# How long a simulated (demo) generation takes.
DEMO_GENERATION_SECONDS = env.float("DEMO_GENERATION_SECONDS", default=3.0)

# PHOTO LIBRARY
# ------------------------------------------------------------------------------
# The per-process search indexes (library/index.py, measured by make bench-search): exact up to this
# many items of one user, approximate (FAISS IVF, built in the background) above; how many of its
# cells a search visits; and the memory all users' indexes of one process may hold, least recently
# used dropped first (each web and worker process has its own).
LIBRARY_INDEX_APPROXIMATE_ABOVE = env.int("LIBRARY_INDEX_APPROXIMATE_ABOVE", default=20_000)
LIBRARY_INDEX_NPROBE = env.int("LIBRARY_INDEX_NPROBE", default=24)
LIBRARY_INDEX_MEMORY_BUDGET_MB = env.float("LIBRARY_INDEX_MEMORY_BUDGET_MB", default=1024)
# How photos and images are described: "local" (offline: the user's words, colours, EXIF, faces)
# or a Hugging Face vision-language model through InferenceClient.chat_completion.
LIBRARY_ANALYSIS_BACKEND = env.str("LIBRARY_ANALYSIS_BACKEND", default="library.backends.local.LocalAnalysisBackend")
HF_VLM_MODEL = env.str("HF_VLM_MODEL", default="Qwen/Qwen2.5-VL-7B-Instruct")
# An OpenAI-compatible base URL (e.g. a dedicated endpoint); empty uses the Hugging Face router.
HF_VLM_BASE_URL = env.str("HF_VLM_BASE_URL", default="")
HF_VLM_TIMEOUT = env.float("HF_VLM_TIMEOUT", default=60.0)
# The text-embedding model (library/backends/embedders.py): the offline Universal Sentence
# Encoder, or library.backends.embedders.HuggingFaceEmbeddingBackend. Changing it re-embeds every
# item in the background (library.reembed_stale, or manage.py library_index at once); until an
# item is re-embedded it is left out of search and "Similar", never compared across models.
LIBRARY_EMBEDDING_BACKEND = env.str(
    "LIBRARY_EMBEDDING_BACKEND", default="library.backends.embedders.UniversalSentenceEncoderBackend"
)
# Items the background re-embed does per beat run (one run at a time, whatever the workers).
LIBRARY_REEMBED_ITEMS_PER_RUN = env.int("LIBRARY_REEMBED_ITEMS_PER_RUN", default=500)
# The Hugging Face embedding backend: the model (its name is part of each vector's model id), its
# feature-extraction URL (empty: HF Inference's pipeline URL for the model; or a dedicated
# text-embeddings-inference endpoint), texts per request, the vectors' size (0: from the first
# answer) and the sentence-transformers prompt put before queries (empty for a symmetric model).
HF_EMBEDDING_MODEL = env.str("HF_EMBEDDING_MODEL", default="Qwen/Qwen3-Embedding-0.6B")
HF_EMBEDDING_URL = env.str("HF_EMBEDDING_URL", default="") or (
    f"https://router.huggingface.co/hf-inference/models/{HF_EMBEDDING_MODEL}/pipeline/feature-extraction"
)
HF_EMBEDDING_TIMEOUT = env.float("HF_EMBEDDING_TIMEOUT", default=30.0)
HF_EMBEDDING_BATCH_SIZE = env.int("HF_EMBEDDING_BATCH_SIZE", default=32)
HF_EMBEDDING_DIMENSIONS = env.int("HF_EMBEDDING_DIMENSIONS", default=0)
HF_EMBEDDING_QUERY_PROMPT = env.str("HF_EMBEDDING_QUERY_PROMPT", default="query")
# Search scores meaning + LIBRARY_KEYWORD_WEIGHT x the share of the query's (rarity-weighted) words an
# item holds, and cuts off results under LIBRARY_SEARCH_MIN_SCORE; "Similar" shows items at least
# LIBRARY_SIMILAR_MIN_SCORE alike (cosine), and items LIBRARY_ALBUM_THRESHOLD alike are proposed as an
# album. All four are calibrated for the embedding model: `bench/relevance.py --calibrate`.
LIBRARY_SEARCH_MIN_SCORE = env.float("LIBRARY_SEARCH_MIN_SCORE", default=0.38)
LIBRARY_KEYWORD_WEIGHT = env.float("LIBRARY_KEYWORD_WEIGHT", default=0.8)
LIBRARY_SIMILAR_MIN_SCORE = env.float("LIBRARY_SIMILAR_MIN_SCORE", default=0.43)
LIBRARY_ALBUM_THRESHOLD = env.float("LIBRARY_ALBUM_THRESHOLD", default=0.51)
# Each process keeps every searching user's word map in memory (library/ranking.py), the least
# recently used dropped first when they hold more than this (about 250 bytes an item).
LIBRARY_KEYWORD_MEMORY_MB = env.int("LIBRARY_KEYWORD_MEMORY_MB", default=256)
LIBRARY_ALBUM_MIN_ITEMS = env.int("LIBRARY_ALBUM_MIN_ITEMS", default=3)

# AUTHENTICATION
# ------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, as django-axes requires: it refuses locked-out credentials before any other backend.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    # Older hashes still verify, and are re-hashed with bcrypt on the next successful login.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "landing"
EMAIL_VERIFICATION_MAX_AGE = timedelta(hours=env.int("EMAIL_VERIFICATION_MAX_AGE_HOURS", default=72))
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_SECONDS", default=60 * 60 * 24)
UNVERIFIED_ACCOUNT_RETENTION = timedelta(days=env.int("UNVERIFIED_ACCOUNT_RETENTION_DAYS", default=30))

# Lockout after repeated failed logins  https://django-axes.readthedocs.io/en/latest/4_configuration.html
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
# One account from one client address is locked: locking the whole address would lock out every
# account behind it (everyone, behind a proxy), and locking the account would let anyone lock its
# owner out. Attempts on one account from all addresses are capped by RATE_LIMITS["login_account"].
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_USERNAME_CALLABLE = "accounts.services.user_login_identifier"
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0) or None
AXES_VERBOSE = False

# API TOKENS
API_TOKEN_MAX_PER_USER = env.int("API_TOKEN_MAX_PER_USER", default=20)

# RATE LIMITS (core/ratelimit.py): "count/period", the period second, minute, hour or day. Sign-up
# (and resending its email) and password resets count per client address (resets also per email
# address); API tokens and generations per user, on the website and the API together; log-in
# attempts per account.
RATE_LIMITS = {
    "signup": env.str("RATE_LIMIT_SIGNUP", default="10/hour"),
    "password_reset": env.str("RATE_LIMIT_PASSWORD_RESET", default="5/hour"),
    "api_token_create": env.str("RATE_LIMIT_API_TOKEN_CREATE", default="10/hour"),
    "generation_create": env.str("RATE_LIMIT_GENERATION_CREATE", default="20/minute"),
    # Log-in attempts on one account from all addresses together: far above the lockout of one
    # address (LOGIN_FAILURE_LIMIT), it slows a distributed guesser and blocks its owner for a minute at most.
    "login_account": env.str("RATE_LIMIT_LOGIN_ACCOUNT", default="20/minute"),
    # Per sending address: Replicate sends every webhook of the account from a few addresses
    # (logs events of a training come up to twice a second), so this stays well above that.
    "provider_webhook": env.str("RATE_LIMIT_PROVIDER_WEBHOOK", default="600/minute"),
}

# API  https://www.django-rest-framework.org/api-guide/settings/
# ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's, counting in the rate-limit cache, per process while Redis is down.
        "core.api.throttling.AnonRateThrottle",
        "core.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="600/minute"),
    },
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0) or None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PhotoAgent API",
    "DESCRIPTION": "Projects, training, generation and the photo library. "
    "Authenticate with `Authorization: Bearer <token>` (create tokens in your settings page).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # core.converters.IdConverter: the object ids in paths.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}},
    "ENUM_NAME_OVERRIDES": {
        "ProjectStatusEnum": "projects.models.Project.Status",
        "PhotoStatusEnum": "projects.models.Photo.Status",
        "TrainingRunStatusEnum": "training.models.TrainingRun.Status",
        "ProjectRoleEnum": "projects.models.Role",
        "InvitableRoleEnum": "projects.models.INVITABLE_ROLE_CHOICES",
    },
}

# SECURITY  https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
# ------------------------------------------------------------------------------
# HTTPS is on in production; behind a TLS-terminating proxy that sets X-Forwarded-Proto.
HTTPS = env.bool("HTTPS", default=IS_PRODUCTION)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = [f"{urlsplit(SITE_URL).scheme}://{urlsplit(SITE_URL).netloc}"]

# Content-Security-Policy  https://django-csp.readthedocs.io/en/latest/configuration.html
# No inline script or style anywhere: behaviour lives in static/js, looks in static/css. The API
# docs pages relax styles only (photoagent/api_urls.py). Presigned S3 media URLs are images from
# the bucket's host.
if _s3_endpoint_url:
    # Path-style URLs use the endpoint's host, virtual-hosted ones a subdomain of it.
    _endpoint = urlsplit(_s3_endpoint_url)
    _media_origins = [f"{_endpoint.scheme}://{_endpoint.netloc}", f"{_endpoint.scheme}://*.{_endpoint.netloc}"]
else:
    _media_origins = ["https://*.amazonaws.com"] if AWS_STORAGE_BUCKET_NAME else []
# The live pages' WebSocket (ws/live/) is same-origin, but older browsers (Safari before 15.4) do
# not let 'self' match ws:/wss:, so the site's own socket origin is named.
_site = urlsplit(SITE_URL)
_live_origin = f"{'wss' if _site.scheme == 'https' else 'ws'}://{_site.netloc}"
_live_origins = [_live_origin]
if LIVE_WEBSOCKET_URL:
    _live_server = urlsplit(LIVE_WEBSOCKET_URL)
    _live_origins.append(f"{_live_server.scheme}://{_live_server.netloc}")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # data: for small inline SVG icons, blob: for the previews of photos before they upload.
        "img-src": ["'self'", "data:", "blob:", *_media_origins],
        "connect-src": ["'self'", *_live_origins],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# I18N
# ------------------------------------------------------------------------------
# The languages the product ships complete translations for (locale/<code>/LC_MESSAGES/django.po).
# A user's saved choice (Settings) wins, then the switcher's cookie, then Accept-Language, then English.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("de", "Deutsch"),
    ("fr", "Français"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "photoagent_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# LOGGING
# ------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# json: one object per line with the request and task ids (core/logging.py); plain: for reading.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if IS_PRODUCTION else "plain")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use 'json' or 'plain'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "core.logging.ContextFilter"},
        "redact": {"()": "core.logging.RedactingFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context", "redact"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "axes": {"level": "WARNING"},
        # faiss.loader reports each CPU-specific build it tries before the one that loads: noise.
        "faiss.loader": {"level": "WARNING"},
        # httpx logs every request's URL at INFO, provider output files included: unguessable links
        # to users' images. Our own lines say what was fetched, by id.
        "httpx": {"level": "WARNING"},
        # Django's own lines ("Not Found: <path>" from django.request, django.security) go to the
        # redacting console above in every mode. Without this, Django's default handlers stay too:
        # with DEBUG on, its console printed signed link paths (share, LoRA, reset) as they are.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # runserver's request lines (redacted too) below WARNING: core.requests logs every request already.
        "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
