"""Image formats, in one place: Pillow's format names, our file extensions and content types."""

# Pillow format -> the extension we store it under. MPO (a multi-picture JPEG) is stored as its first image.
EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic"}
CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "HEIF": "image/heic",
}
# An output format chosen by name (a generation's "jpg", "png", "webp") -> the Pillow format to save it in.
PIL_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heic": "HEIF"}


def extension_for(pil_format: str | None, default: str = "bin") -> str:
    return EXTENSIONS.get(pil_format or "", default)


def content_type_for(pil_format: str | None, default: str = "application/octet-stream") -> str:
    return CONTENT_TYPES.get(pil_format or "", default)
