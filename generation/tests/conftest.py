import pytest


@pytest.fixture
def instant_demo(settings):
    """Generate on the demo simulator, which finishes as soon as the job is submitted."""
    settings.GENERATION_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.GENERATION_BASE_BACKEND = "generation.backends.demo.DemoGenerationBackend"
    settings.DEMO_GENERATION_SECONDS = 0
