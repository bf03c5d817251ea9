import pytest

from standins.chat import TOKEN, start_chat_standin
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


@pytest.fixture
def translator(settings):
    """Prompt translation with the real InferenceClient.chat_completion against a local stand-in
    of an OpenAI-compatible chat endpoint (standins.chat: a small es/de/fr → en dictionary)."""
    server = start_chat_standin()
    settings.PROMPT_TRANSLATION_BACKEND = "generation.backends.translation.HuggingFaceTranslationBackend"
    settings.HF_TOKEN = TOKEN
    settings.HF_NAMESPACE = "acme-loras"
    settings.HF_TRANSLATION_BASE_URL = server.base_url
    settings.HF_TRANSLATION_MODEL = "Qwen/Qwen2.5-7B-Instruct"
    settings.HF_TRANSLATION_TIMEOUT = 1.0
    yield server
    server.shutdown()
    server.server_close()
