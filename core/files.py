"""Stored files going out in a response. A file the database names but storage no longer has (lost
in a failed restore, deleted by hand, a bucket lifecycle rule) answers 410 with a message and an
error in the log, never a 500: DRF views render it as their error body, the website as a page
(core.middleware.StoredFileMissingMiddleware)."""

import logging

from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException

logger = logging.getLogger(__name__)


class StoredFileMissing(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = _("This file is no longer in storage. We have been alerted; please try again later or contact us.")
    default_code = "file_missing"


def open_stored(name: str):
    """The stored file, opened for reading, or StoredFileMissing (logged)."""
    try:
        return default_storage.open(name, "rb")
    except FileNotFoundError:
        logger.error("stored file missing from storage: %s", name)
        raise StoredFileMissing from None
