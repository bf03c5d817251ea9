from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "library"
    verbose_name = "Photo library"

    def ready(self):
        # Connected once the registry is ready: the receivers import the library's tasks.
        from generation import signals as generation_signals
        from library import receivers
        from projects import signals as project_signals

        project_signals.photo_ready.connect(receivers.photo_ready, dispatch_uid="library.photo_ready")
        project_signals.photo_described.connect(receivers.photo_described, dispatch_uid="library.photo_described")
        generation_signals.image_stored.connect(receivers.image_stored, dispatch_uid="library.image_stored")
