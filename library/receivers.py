"""What the library does when the apps below it announce something: it only enqueues.

Connected in LibraryConfig.ready(). Each signal is sent after its write committed, so the task
reads what the sender wrote; `delay_on_commit` runs at once outside a transaction and leaves the
message to the library's reconcile when the broker is down.
"""

from library.tasks import add_generated_image, add_photo


def photo_ready(sender, *, photo_id: int, **kwargs) -> None:
    """A processed photo is described and indexed."""
    add_photo.delay_on_commit(photo_id)


def photo_described(sender, *, photo_id: int, **kwargs) -> None:
    """A new description means a new analysis and embedding."""
    add_photo.delay_on_commit(photo_id)


def image_stored(sender, *, image_id: int, **kwargs) -> None:
    """A generated image is described and indexed like a photo."""
    add_generated_image.delay_on_commit(image_id)
