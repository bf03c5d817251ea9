import os
from logging.config import dictConfig
from pathlib import Path

from celery import Celery
from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun, worker_init
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from kombu.transport import TRANSPORT_ALIASES

from core import logging as log_context

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photoagent.settings.base")

# "filesystem://" (the embedded default) is kombu's filesystem transport with messages written and
# taken atomically, which its fast polling needs (core/broker.py). An alias rather than the
# broker_transport setting, so a broker URL set later (Redis) still picks its own transport.
TRANSPORT_ALIASES["filesystem"] = "core.broker:Transport"

# Every task's base: enqueueing after a commit survives a broker outage (see core.tasks).
app = Celery("photoagent", task_cls="core.tasks:Task")
# Every Celery setting lives in Django settings under the CELERY_ prefix.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _create_filesystem_broker_folders(sender: Celery, **kwargs) -> None:
    # kombu's filesystem transport (the embedded default) does not create its own folders.
    if not str(sender.conf.broker_url).startswith("filesystem://"):
        return
    options = sender.conf.broker_transport_options
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        Path(options[key]).mkdir(parents=True, exist_ok=True)


# The request id travels with the tasks a request enqueues; task log lines carry their ids.
before_task_publish.connect(log_context.task_publishing, weak=False)
task_prerun.connect(log_context.task_started, weak=False)
task_postrun.connect(log_context.task_finished, weak=False)


@setup_logging.connect
def _log_as_the_web_does(**kwargs) -> None:
    # Connected, this replaces Celery's own logging setup: workers and beat use settings.LOGGING
    # (JSON lines in production, secrets redacted) instead of Celery's format.
    dictConfig(settings.LOGGING)


@worker_init.connect
def _load_the_search_model(sender, **kwargs) -> None:
    # A worker that takes the library's tasks loads the embedding model before it forks its pool,
    # once: the children share its tables instead of each loading them on its first analysis.
    # A missing or tampered model file stops the worker here, with the reason, instead of
    # failing every analysis later.
    if "library" not in sender.app.amqp.queues.consume_from:
        return
    from library import embeddings  # not at the top: this module is imported before Django is set up

    try:
        embeddings.preload()
    except (embeddings.ModelIntegrityError, ImproperlyConfigured) as error:
        # Not an Exception: Celery logs and ignores those raised by signal handlers.
        raise SystemExit(f"The search model cannot be loaded: {error}") from error
