"""The embedded default's Celery broker: kombu's filesystem transport, made safe to poll fast.

kombu writes a message file in place and a consumer may open it before the write ends: it reads
an empty file, its connection fails and the message is lost. Rare at kombu's 1-second polling,
frequent at the fraction of a second the embedded default needs to keep up (settings:
EMBEDDED_BROKER_POLLING_SECONDS). Here a message is written under another name and renamed into
place, and taken by renaming it into our own processed folder (same file system: atomic, so two
workers never both take one), where it is read and deleted.
"""

import os
import uuid
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

# Not ".msg": consumers only look at names ending "<queue>.msg".
PARTIAL = ".partial"


class Channel(filesystem.Channel):
    # kombu's filesystem Channel renames its base's `message` argument; ours keeps the Channel's signature.
    def _put(self, queue, payload, **kwargs):  # type: ignore[override]
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        try:
            with open(final + PARTIAL, "wb") as partial:
                partial.write(str_to_bytes(dumps(payload)))
            os.replace(final + PARTIAL, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue, timeout=None):
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            taken = os.path.join(self.processed_folder, name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), taken)
            except OSError:
                continue  # another worker took it first
            try:
                with open(taken, "rb") as message:
                    payload = message.read()
                os.remove(taken)
            except OSError as exc:
                raise ChannelError(f"Cannot read file {taken!r} from queue.") from exc
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel
