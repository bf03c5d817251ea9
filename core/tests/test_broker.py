"""The embedded default's broker (core/broker.py): fast polling never reads half-written messages."""

import json
from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection

from photoagent.settings.base import filesystem_broker_options


@pytest.fixture
def connection(tmp_path):
    options = filesystem_broker_options(tmp_path)
    for key in ("data_folder_in", "processed_folder", "control_folder"):
        Path(options[key]).mkdir(parents=True, exist_ok=True)
    with Connection("filesystem://", transport="core.broker:Transport", transport_options=options) as conn:
        yield conn


def test_a_message_goes_through(connection):
    queue = connection.SimpleQueue("photos")
    queue.put({"photo": 1})
    message = queue.get(timeout=1)
    assert message.payload == {"photo": 1}
    message.ack()
    queue.close()


def test_a_message_still_being_written_is_not_taken(connection, tmp_path):
    channel = connection.default_channel
    queue_folder = tmp_path / "queue"
    # What a publisher leaves while it writes: a name consumers do not take.
    partial = queue_folder / "1_abc.photos.msg.partial"
    partial.write_text("")
    with pytest.raises(Empty):
        channel._get("photos")
    partial.write_text(json.dumps({"body": "x"}))
    partial.rename(queue_folder / "1_abc.photos.msg")
    assert channel._get("photos") == {"body": "x"}
    assert list(queue_folder.iterdir()) == []
    assert list((tmp_path / "processed").iterdir()) == []


def test_publishing_leaves_only_whole_messages(connection, tmp_path):
    channel = connection.default_channel
    for number in range(20):
        channel._put("photos", {"n": number})
    names = [path.name for path in (tmp_path / "queue").iterdir()]
    assert len(names) == 20
    assert all(name.endswith(".photos.msg") for name in names)
    assert sorted(channel._get("photos")["n"] for _ in range(20)) == list(range(20))


def test_two_workers_never_take_the_same_message(tmp_path):
    options = filesystem_broker_options(tmp_path)
    for key in ("data_folder_in", "processed_folder", "control_folder"):
        Path(options[key]).mkdir(parents=True, exist_ok=True)
    with (
        Connection("filesystem://", transport="core.broker:Transport", transport_options=options) as first,
        Connection("filesystem://", transport="core.broker:Transport", transport_options=options) as second,
    ):
        first.default_channel._put("photos", {"n": 1})
        taken = []
        for channel in (first.default_channel, second.default_channel):
            try:
                taken.append(channel._get("photos"))
            except Empty:
                pass
    assert taken == [{"n": 1}]
