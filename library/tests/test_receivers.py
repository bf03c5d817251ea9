"""The library hears what projects and generation announce, and only enqueues its own work."""

import pytest

from generation import signals as generation_signals
from library import receivers
from projects import signals as project_signals


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr(receivers.add_photo, "delay_on_commit", lambda photo_id: calls.append(("photo", photo_id)))
    monkeypatch.setattr(
        receivers.add_generated_image, "delay_on_commit", lambda image_id: calls.append(("image", image_id))
    )
    return calls


@pytest.mark.parametrize("signal", [project_signals.photo_ready, project_signals.photo_described])
def test_a_ready_or_redescribed_photo_is_queued_for_the_library(signal, enqueued):
    signal.send(sender=None, photo_id=7)
    assert enqueued == [("photo", 7)]


def test_a_stored_image_is_queued_for_the_library(enqueued):
    generation_signals.image_stored.send(sender=None, image_id=9)
    assert enqueued == [("image", 9)]
