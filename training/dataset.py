"""The training dataset: a flat zip of training derivatives with same-named .txt captions."""

import re
import tempfile
import zipfile

from django.core.files.storage import default_storage


def caption_for(*, description: str, trigger_word: str) -> str:
    """The photo's description with the trigger word in it, always (added in front when missing)."""
    description = " ".join(description.split())
    if re.search(rf"\b{re.escape(trigger_word)}\b", description):
        return description
    return f"a photo of {trigger_word}, {description}" if description else f"a photo of {trigger_word}"


def build_zip(*, photos, trigger_word: str):
    """Write the zip to a temporary file (spooled to disk past 10 MB) and return it, rewound."""
    archive = tempfile.SpooledTemporaryFile(max_size=10 * 1024 * 1024)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as bundle:
        for index, photo in enumerate(photos, start=1):
            stem = f"{index:02d}"
            with default_storage.open(photo.training_image.name, "rb") as image:
                bundle.writestr(f"{stem}.jpg", image.read())
            bundle.writestr(f"{stem}.txt", caption_for(description=photo.description, trigger_word=trigger_word))
    archive.seek(0)
    return archive
