import pytest

from standins.replicate import start_replicate_standin


@pytest.fixture
def replicate(settings):
    """Generation with the real replicate client against a local stand-in of Replicate's HTTP API."""
    server = start_replicate_standin()
    settings.GENERATION_BACKEND = "generation.backends.replicate.ReplicateGenerationBackend"
    settings.GENERATION_BASE_BACKEND = "generation.backends.replicate.ReplicateGenerationBackend"
    settings.REPLICATE_API_TOKEN = "r8_standin"
    settings.REPLICATE_BASE_URL = server.url
    settings.REPLICATE_OWNER = "acme"
    settings.REPLICATE_WEBHOOK_SECRET = ""
    settings.REPLICATE_TIMEOUT = 5
    settings.REPLICATE_GENERATION_WAIT_SECONDS = 3
    settings.HF_TOKEN = ""
    yield server
    server.shutdown()
    server.server_close()
