"""Django's upload handlers, with a temporary file name the operating system always accepts."""

import os
import tempfile

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.core.files.uploadhandler import TemporaryFileUploadHandler as DjangoTemporaryFileUploadHandler

# Django puts the upload's whole extension (up to 255 characters) in the temporary file's name,
# "tmpXXXXXXXX.upload<extension>", which can then pass the 255 bytes a file name may have: the OS
# refuses it (ENAMETOOLONG), a 500. Any real extension fits in this.
EXTENSION_MAX = 16


class ShortNamedTemporaryUploadedFile(TemporaryUploadedFile):
    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        extension = os.path.splitext(name)[1][:EXTENSION_MAX]
        file = tempfile.NamedTemporaryFile(suffix=".upload" + extension, dir=settings.FILE_UPLOAD_TEMP_DIR)
        # TemporaryUploadedFile's own __init__ would name the file after the whole extension.
        UploadedFile.__init__(self, file, name, content_type, size, charset, content_type_extra)


class TemporaryFileUploadHandler(DjangoTemporaryFileUploadHandler):
    """Uploads past FILE_UPLOAD_MAX_MEMORY_SIZE go to disk, under a name of bounded length."""

    def new_file(self, *args, **kwargs):
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = ShortNamedTemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )
