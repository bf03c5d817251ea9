"""The settings module is read in a fresh interpreter per case: it reads the environment at import."""

import json
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]

PRINT_SETTINGS = """
import json
from django.conf import settings
from photoagent.celery import app as celery_app
db, storage = settings.DATABASES["default"], settings.STORAGES["default"]
print(json.dumps({
    "db_engine": db["ENGINE"], "db_options": db.get("OPTIONS", {}),
    "broker": settings.CELERY_BROKER_URL, "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "broker_transport": type(celery_app.connection_for_write().transport).__module__,
    "static_storage": settings.STORAGES["staticfiles"]["BACKEND"],
    "storage": storage["BACKEND"], "storage_options": storage.get("OPTIONS", {}),
    "email": settings.EMAIL_BACKEND, "demo": settings.DEMO_MODE, "debug": settings.DEBUG,
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_ignores_outages": settings.CACHES["default"].get("OPTIONS", {}).get("IGNORE_EXCEPTIONS"),
    "img_src": settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"],
    "connect_src": settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"],
}))
"""

PRODUCTION = {
    "DJANGO_ENV": "production",
    # A fresh key: production refuses the keys written in this repository.
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "photoagent.example.com",
    "DATABASE_URL": "mysql://photoagent:secret@127.0.0.1:3306/photoagent",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SITE_URL": "https://photoagent.example.com",
}


def run(args: list[str], env: dict, tmp_path) -> subprocess.CompletedProcess:
    clean_env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "photoagent.settings.base",
        "DATA_DIR": str(tmp_path),
        # Never the developer's own .env: the tests that read one write it here.
        "ENV_FILE": str(tmp_path / ".env"),
        **env,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=clean_env, capture_output=True, text=True, timeout=120, check=False
    )


def load_settings(env: dict, tmp_path) -> dict:
    result = run(["-c", PRINT_SETTINGS], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_separate_live_server_is_one_the_pages_may_connect_to(tmp_path):
    """Production serves the live WebSockets apart (docker-compose's `live`); without a proxy
    routing /ws/ to it, LIVE_WEBSOCKET_URL names it, and the CSP must let the page reach it."""
    same_site = load_settings({"SITE_URL": "https://photoagent.example.com"}, tmp_path)
    assert same_site["connect_src"] == ["'self'", "wss://photoagent.example.com"]
    apart = load_settings(
        {"SITE_URL": "http://localhost:8000", "LIVE_WEBSOCKET_URL": "ws://localhost:8001/ws/live/"}, tmp_path
    )
    assert apart["connect_src"] == ["'self'", "ws://localhost:8000", "ws://localhost:8001"]


def test_with_nothing_set_the_app_runs_on_the_embedded_default(tmp_path):
    chosen = load_settings({}, tmp_path)
    assert chosen["db_engine"] == "django.db.backends.sqlite3"
    assert chosen["broker"] == "filesystem://"
    assert chosen["transport"]["data_folder_in"] == str(tmp_path / "broker" / "queue")
    # Polled often (kombu's 1 s made each worker move about one message a second), through the
    # transport that writes and takes messages atomically (core/broker.py).
    assert chosen["transport"]["polling_interval"] <= 0.1
    assert chosen["broker_transport"] == "core.broker"
    assert chosen["storage"] == "django.core.files.storage.FileSystemStorage"
    assert chosen["storage_options"]["location"] == str(tmp_path / "media")
    assert chosen["email"] == "django.core.mail.backends.console.EmailBackend"
    assert chosen["demo"] is True
    assert chosen["img_src"] == ["'self'", "data:", "blob:"]


def test_services_are_selected_by_their_variables(tmp_path):
    chosen = load_settings(
        {
            "DATABASE_URL": "mysql://root@127.0.0.1:3306/photoagent",
            "REDIS_URL": "redis://127.0.0.1:6379/2",
            "AWS_STORAGE_BUCKET_NAME": "photos",
            "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
            "SENDGRID_API_KEY": "SG.test",
            "REPLICATE_API_TOKEN": "r8_test",
            "REPLICATE_OWNER": "photoagent",
        },
        tmp_path,
    )
    assert chosen["db_engine"] == "django.db.backends.mysql"
    assert chosen["db_options"]["charset"] == "utf8mb4"
    assert "STRICT_TRANS_TABLES" in chosen["db_options"]["init_command"]
    assert chosen["broker"] == "redis://127.0.0.1:6379/2"
    assert chosen["transport"]["visibility_timeout"] > 360
    assert chosen["cache"] == "django_redis.cache.RedisCache"
    assert chosen["cache_ignores_outages"] is True
    assert chosen["storage"] == "storages.backends.s3.S3Storage"
    assert chosen["storage_options"]["default_acl"] is None
    assert chosen["storage_options"]["querystring_auth"] is True
    assert chosen["storage_options"]["querystring_expire"] == 300
    assert chosen["email"] == "integrations.sendgrid.SendGridEmailBackend"
    assert chosen["demo"] is False
    # Presigned media URLs point at the bucket's server: the page policy lets those images load.
    assert chosen["img_src"] == ["'self'", "data:", "blob:", "http://127.0.0.1:9000", "http://*.127.0.0.1:9000"]


def test_a_provider_token_without_its_account_stops_with_a_message(tmp_path):
    result = run(["-c", PRINT_SETTINGS], {"REPLICATE_API_TOKEN": "r8_test"}, tmp_path)
    assert "also set REPLICATE_OWNER" in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"])
def test_production_stops_with_a_message_naming_what_is_missing(tmp_path, missing):
    env = {key: value for key, value in PRODUCTION.items() if key != missing}
    result = run(["-c", PRINT_SETTINGS], env, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"not set: {missing}." in result.stderr


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("dev-only-insecure-key-do-not-use-in-production-0123456789", "is a public key from this repository"),
        ("a-long-random-production-secret-key-0123456789-abcdefghijklmnop", "is a public key from this repository"),
        ("django-insecure-" + secrets.token_urlsafe(50), "is a key Django generated for development"),
        (secrets.token_urlsafe(30), "is too weak"),
        ("abcd" * 20, "is too weak"),
    ],
)
@pytest.mark.parametrize("variable", ["SECRET_KEY", "SECRET_KEY_FALLBACKS"])
def test_production_refuses_a_public_or_weak_secret_key(tmp_path, key, reason, variable):
    result = run(["-c", PRINT_SETTINGS], {**PRODUCTION, variable: key}, tmp_path)
    assert result.returncode != 0
    assert f"ImproperlyConfigured: DJANGO_ENV=production: a key in {variable} {reason}" in result.stderr
    assert key not in result.stderr, "the key itself is never printed"


def test_development_still_runs_on_its_own_key(tmp_path):
    # No SECRET_KEY set: development starts (load_settings checks the exit status) on the public key.
    assert load_settings({}, tmp_path)["demo"] is True


def test_production_names_every_missing_variable_at_once(tmp_path):
    result = run(["-c", PRINT_SETTINGS], {"DJANGO_ENV": "production"}, tmp_path)
    assert "not set: SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL." in result.stderr


def test_a_mistyped_rate_limit_stops_the_start_with_a_message(tmp_path):
    result = run(["manage.py", "check"], {"RATE_LIMIT_SIGNUP": "10 per hour"}, tmp_path)
    assert result.returncode != 0
    assert "Rate '10 per hour': write it as count/period" in result.stderr


def test_an_unknown_environment_name_is_refused(tmp_path):
    result = run(["-c", PRINT_SETTINGS], {"DJANGO_ENV": "prod"}, tmp_path)
    assert result.returncode != 0
    assert "use 'development' or 'production'" in result.stderr


def deploy_check(env: dict, tmp_path) -> subprocess.CompletedProcess:
    """`check --deploy` as production runs it; SQLite only where mysqlclient is not installed (the
    deploy checks do not connect to the database)."""
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        env = {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    return run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)


@pytest.mark.parametrize("media", ["local disk", "S3"])
def test_production_settings_pass_the_deploy_check_with_no_warnings(tmp_path, media):
    env = {**PRODUCTION, **({"AWS_STORAGE_BUCKET_NAME": "photoagent-media"} if media == "S3" else {})}
    result = deploy_check(env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_the_deploy_check_does_flag_an_insecure_production(tmp_path):
    """So the test above cannot pass by checking nothing."""
    result = deploy_check({**PRODUCTION, "HTTPS": "false", "DEBUG": "true"}, tmp_path)
    assert result.returncode != 0
    for issue in ("security.W004", "security.W008", "security.W012", "security.W016", "security.W018"):
        assert issue in result.stderr + result.stdout


def test_env_example_lists_every_variable_the_settings_read():
    import re

    source = (BASE_DIR / "photoagent" / "settings" / "base.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', source))
    listed = set(re.findall(r"^(?:# )?([A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), re.M))
    assert read - listed == set(), "add these to .env.example"
    assert listed - read == set(), "remove these from .env.example"


def test_docker_compose_sets_only_variables_the_settings_read():
    import re

    import yaml

    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    source = (BASE_DIR / "photoagent" / "settings" / "base.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', source))
    app_env = compose["services"]["web"]["environment"]
    assert set(app_env) - read == set()
    assert {"DJANGO_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"} <= set(app_env)
    for name in ("web", "worker", "generation-worker", "beat", "db", "redis"):
        assert "healthcheck" in compose["services"][name], f"{name} has no healthcheck"


LOG_A_LINE = """
import django, logging
django.setup()
logging.getLogger("photoagent.check").warning("token %s", "r8_" + "a1" * 20)
"""


def test_production_logs_one_json_object_per_line_with_secrets_redacted(tmp_path):
    env = {**PRODUCTION, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = run(["-c", LOG_A_LINE], env, tmp_path)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "token r8_[REDACTED]"
    assert (line["level"], line["logger"]) == ("WARNING", "photoagent.check")


def test_development_logs_plain_lines_also_redacted(tmp_path):
    result = run(["-c", LOG_A_LINE], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith("WARNING photoagent.check: token r8_[REDACTED]")


def test_an_unknown_log_format_is_refused(tmp_path):
    result = run(["-c", PRINT_SETTINGS], {"LOG_FORMAT": "xml"}, tmp_path)
    assert result.returncode != 0
    assert "use 'json' or 'plain'" in result.stderr


def test_after_a_key_rotation_what_the_previous_key_signed_still_verifies(tmp_path):
    check = (
        "import django; django.setup(); from django.core import signing; "
        "print(signing.loads(signing.dumps('still valid', key='the-previous-key-0123456789')))"
    )
    rotated = {"SECRET_KEY": "the-new-key-0123456789", "SECRET_KEY_FALLBACKS": "the-previous-key-0123456789"}
    assert run(["-c", check], rotated, tmp_path).stdout.strip() == "still valid"
    result = run(["-c", check], {"SECRET_KEY": "the-new-key-0123456789"}, tmp_path)
    assert "BadSignature" in result.stderr


PRINT_SOME = """
import json
from django.conf import settings
print(json.dumps({"log_level": settings.LOG_LEVEL, "spend": settings.GENERATION_MONTHLY_SPEND,
                  "site_url": settings.SITE_URL}))
"""


def test_a_dotenv_file_fills_in_what_the_environment_does_not_set(tmp_path):
    (tmp_path / ".env").write_text('LOG_LEVEL=WARNING\nGENERATION_MONTHLY_SPEND=7\nSITE_URL="http://photos.test"\n')
    chosen = json.loads(run(["-c", PRINT_SOME], {"GENERATION_MONTHLY_SPEND": "9"}, tmp_path).stdout)
    assert chosen == {"log_level": "WARNING", "spend": 9.0, "site_url": "http://photos.test"}


def test_env_example_copied_to_dotenv_runs_the_embedded_default(tmp_path):
    (tmp_path / ".env").write_text((BASE_DIR / ".env.example").read_text().replace("DATA_DIR=./var", ""))
    chosen = load_settings({}, tmp_path)
    assert chosen["db_engine"] == "django.db.backends.sqlite3"
    assert chosen["broker"] == "filesystem://"
    assert chosen["demo"] is True
    assert chosen["debug"] is False
    assert json.loads(run(["-c", PRINT_SOME], {}, tmp_path).stdout)["site_url"] == "http://127.0.0.1:8000"


VISIT = """
import django, json
django.setup()
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
page = client.get("/no/such/page/")
static = client.get("/static/css/app.css")
print(json.dumps({"status": page.status_code, "body": page.content.decode(), "static": static.status_code}))
"""


def test_make_run_shows_the_products_404_and_still_serves_static_files(tmp_path):
    visit = run(["-c", VISIT], {}, tmp_path)
    assert visit.returncode == 0, visit.stderr
    seen = json.loads(visit.stdout)
    assert seen["status"] == 404
    assert "Using the URLconf" not in seen["body"]
    assert "PhotoAgent" in seen["body"]
    assert seen["static"] == 200


def test_django_debug_pages_are_there_when_a_developer_asks(tmp_path):
    seen = json.loads(run(["-c", VISIT], {"DEBUG": "true"}, tmp_path).stdout)
    assert seen["status"] == 404
    assert "Using the URLconf" in seen["body"]
    assert seen["static"] == 200


def test_static_files_come_from_the_sources_in_development_and_collected_in_production(tmp_path):
    # make run (DEBUG off) serves edits at once, no collectstatic; production its hashed, compressed copies.
    assert load_settings({}, tmp_path)["static_storage"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    production = load_settings(PRODUCTION, tmp_path)["static_storage"]
    assert production == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert "DJANGO_ENV=production" in dockerfile.split("collectstatic")[0].rsplit("RUN", 1)[1]


def test_make_run_serves_on_host_and_port_from_the_environment(tmp_path):
    import socket

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = run(["manage.py", "web_address"], {"PORT": str(port)}, tmp_path)
    assert result.returncode == 0, result.stderr
    # The address the web server binds, then the base URL of the links the workers write in emails.
    assert result.stdout.split() == [f"127.0.0.1:{port}", f"http://127.0.0.1:{port}"]


@pytest.mark.parametrize(
    ("host", "served", "site_url"),
    [("0.0.0.0", "0.0.0.0:{port}", "http://127.0.0.1:{port}"), ("::1", "[::1]:{port}", "http://[::1]:{port}")],
)
def test_links_point_at_an_address_one_can_open(tmp_path, host, served, site_url):
    import socket

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = run(["manage.py", "web_address"], {"HOST": host, "PORT": str(port)}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [served.format(port=port), site_url.format(port=port)]


def test_make_run_stops_with_the_remedy_when_its_port_is_taken(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(["manage.py", "web_address"], {"HOST": "127.0.0.1", "PORT": str(port)}, tmp_path)
    assert result.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"PORT={port + 1} make run" in result.stderr


def test_make_run_passes_its_address_to_the_web_process_and_the_workers():
    makefile = (BASE_DIR / "Makefile").read_text()
    procfile = (BASE_DIR / "Procfile.dev").read_text()
    assert "8000" not in procfile
    # uvicorn serves pages and the live WebSocket; WEB_ADDRESS split into its host and port.
    web = next(line for line in procfile.splitlines() if line.startswith("web:"))
    assert "uvicorn photoagent.asgi:application" in web
    assert '"${WEB_ADDRESS%:*}"' in web
    assert '"${WEB_ADDRESS##*:}"' in web
    assert "WEB_ADDRESS=$$1 SITE_URL=$$2" in makefile
