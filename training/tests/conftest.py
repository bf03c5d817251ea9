import pytest
from django.utils import translation

from standins.replicate import start_replicate_standin


@pytest.fixture
def replicate(settings):
    """Training with the real replicate client against a local stand-in of Replicate's HTTP API."""
    server = start_replicate_standin()
    settings.TRAINING_BACKEND = "training.backends.replicate.ReplicateTrainingBackend"
    settings.REPLICATE_API_TOKEN = "r8_standin"
    settings.REPLICATE_BASE_URL = server.url
    settings.REPLICATE_OWNER = "acme"
    settings.REPLICATE_WEBHOOK_SECRET = ""
    settings.REPLICATE_TIMEOUT = 5
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _language_reset():
    """Each test starts and ends in English. A request in another language leaves that language
    active in the thread (LocaleMiddleware activates it, nothing deactivates it), and code a later
    test calls without a request would speak it."""
    translation.deactivate()
    yield
    translation.deactivate()
