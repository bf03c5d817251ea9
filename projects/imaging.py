"""The photo pipeline: inspect an upload safely, then render the derivatives from the original.

Pure functions over file objects and bytes; storage and the database are the callers' business.
Memory stays bounded: headers are checked before any decoding, JPEGs are decoded at the smallest
scale that still covers the largest derivative, and only one decoded image is alive at a time.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass

import imagehash
import numpy as np
import pillow_heif
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageFilter, ImageOps, ImageStat, UnidentifiedImageError

pillow_heif.register_heif_opener()

ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC"}
# A JPEG carrying more images after the first (an MPF block: the second eye of a 3D camera, a
# depth map, a large preview), as many cameras and phones write. Pillow calls it MPO; people see
# a JPEG, and it is one: the first image is the photo, and the only one we use.
MULTI_PICTURE_JPEG = "MPO"
TRAINING_LONG_SIDE = 1536
THUMBNAIL_LONG_SIDE = 400
PREVIEW_LONG_SIDE = 96
ANALYSIS_LONG_SIDE = 512
# Decoding at a reduced scale leaves at least this much headroom above the target size, so the
# final LANCZOS resize still has real pixels to work from.
REDUCING_GAP = 2.0

_SRGB = ImageCms.createProfile("sRGB")


class PhotoRejected(Exception):
    """The file is not a photo we can use; the message tells the user why."""


@dataclass(frozen=True)
class UploadInfo:
    format: str
    width: int
    height: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Derivatives:
    training_jpeg: bytes
    thumbnail_webp: bytes
    preview_webp: bytes
    phash: str
    blur_score: float
    analysis_image: Image.Image  # RGB, long side ANALYSIS_LONG_SIDE * 2 at most, for face detection


def _sha256(fileobj) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    fileobj.seek(0)
    return digest.hexdigest(), size


def _oriented_size(img: Image.Image) -> tuple[int, int]:
    orientation = img.getexif().get(0x0112, 1)
    width, height = img.size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def inspect_upload(fileobj, *, max_bytes: int, max_pixels: int, min_side: int) -> UploadInfo:
    """Check an uploaded file without trusting its name or its header: raises PhotoRejected."""
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    if size == 0:
        raise PhotoRejected(_("The file is empty."))
    if size > max_bytes:
        raise PhotoRejected(
            _("The file is %(size)d MB; the limit is %(limit)d MB.")
            % {"size": round(size / 1e6), "limit": round(max_bytes / 1e6)}
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(fileobj)
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
        SyntaxError,
    ) as exc:
        if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
            raise PhotoRejected(_("The image has far too many pixels to be a photo.")) from exc
        raise PhotoRejected(_("This is not an image we can read. We accept JPEG, PNG, WebP and HEIC photos.")) from exc
    with img:
        image_format = "JPEG" if img.format == MULTI_PICTURE_JPEG else img.format
        if image_format not in ACCEPTED_FORMATS:
            raise PhotoRejected(
                _("%(format)s files are not accepted. Use JPEG, PNG, WebP or HEIC.") % {"format": img.format}
            )
        if getattr(img, "n_frames", 1) > 1 and img.format not in ("HEIF", MULTI_PICTURE_JPEG):
            raise PhotoRejected(_("Animated images are not accepted; upload a still photo."))
        width, height = img.size
        if width * height > max_pixels:
            megapixels, limit = width * height / 1e6, max_pixels / 1e6
            raise PhotoRejected(
                _("The image is %(width)d×%(height)d (%(megapixels)d MP); the limit is %(limit)d MP.")
                % {"width": width, "height": height, "megapixels": round(megapixels), "limit": round(limit)}
            )
        if min(width, height) < min_side:
            raise PhotoRejected(
                _("The image is only %(width)d×%(height)d px; photos need at least %(min_side)d px on the short side.")
                % {"width": width, "height": height, "min_side": min_side}
            )
        if max(width, height) > 20 * min(width, height):
            raise PhotoRejected(
                _("The image is %(width)d×%(height)d px: too narrow to be a photo of a subject.")
                % {"width": width, "height": height}
            )
        # Decode it all (at a reduced scale for JPEG, which is cheap) so a truncated or corrupt
        # file is refused now, with a message, rather than failing later in the background.
        # Decoders of untrusted files fail in many ways (OSError, struct.error, EOFError, ...):
        # any failure here means the file is damaged.
        try:
            oriented = _oriented_size(img)
            if image_format == "JPEG":
                img.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            img.load()
        except Exception as exc:  # noqa: BLE001
            raise PhotoRejected(_("The file is damaged or incomplete and cannot be decoded.")) from exc
    sha256, size = _sha256(fileobj)
    return UploadInfo(format=image_format, width=oriented[0], height=oriented[1], bytes=size, sha256=sha256)


def _draft_box(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """The box to ask JPEG draft mode for: the target size in the image's aspect.

    libjpeg scales in the DCT domain while decoding, which keeps detail well, so decoding
    straight down to (at least) the target size loses nothing the final resize would keep.
    """
    width, height = size
    scale = long_side / max(width, height)
    return max(1, int(width * scale)), max(1, int(height * scale))


def _to_srgb(img: Image.Image) -> Image.Image:
    """RGB in sRGB, whatever the mode or embedded colour profile; transparency goes on white."""
    icc = img.info.get("icc_profile")
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits (a plain convert would clip everything above 255).
        pixels = np.asarray(img, dtype=np.uint32)
        img = Image.fromarray((pixels >> 8).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    if icc and img.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(img, source, _SRGB, outputMode="RGB")
            if converted is not None:  # None only when converting in place, which this does not
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # A broken profile: fall back to treating the pixels as sRGB.
    return img.convert("RGB")


def blur_score(img: Image.Image) -> float:
    """Variance of the Laplacian on a 512 px greyscale copy: low means blurry."""
    grey = img.convert("L")
    grey.thumbnail((ANALYSIS_LONG_SIDE, ANALYSIS_LONG_SIDE), Image.Resampling.BILINEAR)
    laplacian = grey.filter(ImageFilter.Kernel((3, 3), [0, 1, 0, 1, -4, 1, 0, 1, 0], scale=1, offset=128))
    return round(ImageStat.Stat(laplacian).var[0], 2)


def render_derivatives(fileobj) -> Derivatives:
    """Decode the original once, at the smallest useful scale, and render every derivative from it.

    All metadata (EXIF with GPS, XMP, comments, colour profiles) is left behind: derivatives are
    re-encoded from pixels converted to sRGB.
    """
    fileobj.seek(0)
    with Image.open(fileobj) as original:
        # Of a multi-picture JPEG, only the first image (the one open now) is used.
        if original.format in ("JPEG", MULTI_PICTURE_JPEG):
            original.draft("RGB", _draft_box(original.size, TRAINING_LONG_SIDE))
        # thumbnail() reduces in integer steps first (cheap), then resamples with LANCZOS.
        original.thumbnail(
            (TRAINING_LONG_SIDE, TRAINING_LONG_SIDE), Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP
        )
        oriented = ImageOps.exif_transpose(original)
        training = _to_srgb(oriented)
    training_jpeg = _encode(training, "JPEG", quality=92, subsampling=0)

    thumbnail = training.copy()
    thumbnail.thumbnail((THUMBNAIL_LONG_SIDE, THUMBNAIL_LONG_SIDE), Image.Resampling.LANCZOS)
    preview = thumbnail.copy()
    preview.thumbnail((PREVIEW_LONG_SIDE, PREVIEW_LONG_SIDE), Image.Resampling.LANCZOS)

    return Derivatives(
        training_jpeg=training_jpeg,
        thumbnail_webp=_encode(thumbnail, "WEBP", quality=80, method=4),
        preview_webp=_encode(preview, "WEBP", quality=60, method=4),
        phash=str(imagehash.phash(thumbnail)),
        blur_score=blur_score(training),
        analysis_image=_analysis_copy(training),
    )


def _analysis_copy(img: Image.Image) -> Image.Image:
    copy = img.copy()
    copy.thumbnail((ANALYSIS_LONG_SIDE * 2, ANALYSIS_LONG_SIDE * 2), Image.Resampling.BILINEAR)
    return copy


def analysis_image(fileobj) -> Image.Image:
    """The image face detection runs on, from a stored training derivative."""
    with Image.open(fileobj) as img:
        return _analysis_copy(img.convert("RGB"))


def _encode(img: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, image_format, **options)
    return buffer.getvalue()


def phash_distance(first: str, second: str) -> int:
    return imagehash.hex_to_hash(first) - imagehash.hex_to_hash(second)
