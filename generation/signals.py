"""What the generation app tells the apps above it. Receivers only enqueue (see library/receivers.py).

Every signal is sent after the write it announces has committed (`transaction.on_commit`), with
keyword arguments only.
"""

from django.dispatch import Signal

# A generated image is stored (file and thumbnail): image_id.
image_stored = Signal()
