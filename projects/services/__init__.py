"""Every write of the projects app: projects (`projects.py`) and their photos (`photos.py`)."""

from projects.services.photos import (
    UploadResult,
    photo_analyse_faces,
    photo_delete,
    photo_process,
    photo_reconcile,
    photo_restore,
    photo_set_ai_caption,
    photo_trash,
    photo_update_description,
    photo_upload,
    photos_purge_trashed,
)
from projects.services.projects import (
    ProjectError,
    project_create,
    project_delete,
    project_mark_training,
    project_refresh_status,
    project_release,
    project_update,
)

__all__ = [
    "ProjectError",
    "UploadResult",
    "photo_analyse_faces",
    "photo_delete",
    "photo_process",
    "photo_reconcile",
    "photo_restore",
    "photo_set_ai_caption",
    "photo_trash",
    "photo_update_description",
    "photo_upload",
    "photos_purge_trashed",
    "project_create",
    "project_delete",
    "project_mark_training",
    "project_refresh_status",
    "project_release",
    "project_update",
]
