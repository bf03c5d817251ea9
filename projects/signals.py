"""What the projects app tells the apps above it. Receivers only enqueue (see library/receivers.py).

Every signal is sent after the write it announces has committed (`transaction.on_commit`), with
keyword arguments only.
"""

from django.dispatch import Signal

# A photo finished processing (its thumbnail, preview and training image are stored): photo_id.
photo_ready = Signal()
# A photo's description changed: photo_id.
photo_described = Signal()
