import pytest

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
