import pytest


@pytest.fixture
def instant_demo(settings):
    """Train on the demo simulator, which finishes at the first poll."""
    settings.TRAINING_BACKEND = "training.backends.demo.DemoTrainingBackend"
    settings.DEMO_TRAINING_SECONDS = 0
