"""Hostile and odd files: each gets a clear message or becomes a correct photo; nothing breaks."""

import io
import struct
import zlib

import pytest
from PIL import Image

from projects.models import Photo
from projects.tests.conftest import referenced_files, stored_files
from projects.tests.factories import encode, scene, upload

REJECT, ACCEPT, EITHER = "reject", "accept", "either"


def jpeg(seed=1, size=(1000, 800), **options) -> bytes:
    return encode(scene(seed, size=size), "JPEG", quality=90, **options)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size but holds almost no data: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def animated(image_format: str) -> bytes:
    frames = [scene(seed, size=(800, 600)) for seed in (1, 2, 3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, image_format, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def huge_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = "x" * 60_000  # ImageDescription filling most of the 64 KB APP1 segment
    return encode(scene(11, size=(1000, 800)), "JPEG", exif=exif)


def palette_with_transparency() -> bytes:
    img = scene(12, size=(900, 700)).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    return encode(img, "PNG", transparency=0)


def sixteen_bit_png() -> bytes:
    import numpy as np

    return encode(
        Image.fromarray((np.arange(800 * 600, dtype=np.uint32) % 65535).astype(np.uint16).reshape(600, 800)), "PNG"
    )


def corrupt_middle() -> bytes:
    data = bytearray(jpeg(13))
    middle = len(data) // 2
    data[middle : middle + 200] = b"\x00" * 200
    return bytes(data)


def multi_picture_jpeg() -> bytes:
    """A JPEG with a second, smaller image after it in an MPF block, as cameras and phones write."""
    buffer = io.BytesIO()
    first, second = scene(32, size=(1000, 800)), scene(33, size=(640, 480))
    first.save(buffer, "MPO", save_all=True, append_images=[second], quality=90)
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"
    return buffer.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="900"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"

CASES = {
    "zero bytes": (lambda: b"", "empty.jpg", REJECT, "empty"),
    "truncated jpeg": (lambda: jpeg(2)[:-4000], "cut.jpg", REJECT, "damaged or incomplete"),
    "truncated png": (lambda: encode(scene(3), "PNG")[:-5000], "cut.png", REJECT, "damaged or incomplete"),
    "plain text named .jpg": (lambda: b"hello, I am not a photo\n" * 40, "note.jpg", REJECT, "not an image"),
    "html named .jpg": (lambda: HTML, "page.jpg", REJECT, "not an image"),
    "svg named .jpg": (lambda: SVG, "vector.jpg", REJECT, "not an image"),
    "svg": (lambda: SVG, "vector.svg", REJECT, "not an image"),
    "pdf": (lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "doc.jpg", REJECT, "not an image"),
    "polyglot jpeg with html appended": (lambda: jpeg(4) + HTML, "poly.jpg", ACCEPT, ""),
    "polyglot jpeg with zip appended": (lambda: jpeg(5) + b"PK\x03\x04" + b"\0" * 100, "poly2.jpg", ACCEPT, ""),
    "decompression bomb (header 30000x30000)": (lambda: png_header_only(30000, 30000), "bomb.png", REJECT, "pixels"),
    "over the pixel limit (9000x8000)": (lambda: png_header_only(9000, 8000), "big.png", REJECT, "the limit is 64 MP"),
    "huge exif block": (huge_exif, "exif.jpg", ACCEPT, ""),
    "cmyk jpeg": (lambda: encode(scene(14, size=(900, 700), mode="CMYK"), "JPEG"), "cmyk.jpg", ACCEPT, ""),
    "16-bit png": (sixteen_bit_png, "deep.png", ACCEPT, ""),
    "palette png with transparency": (palette_with_transparency, "palette.png", ACCEPT, ""),
    "grey with alpha png": (lambda: encode(scene(15).convert("LA"), "PNG"), "la.png", ACCEPT, ""),
    "bilevel png": (lambda: encode(scene(16).convert("1"), "PNG"), "bw.png", ACCEPT, ""),
    "animated gif": (lambda: animated("GIF"), "anim.gif", REJECT, "GIF files are not accepted"),
    "animated webp": (lambda: animated("WEBP"), "anim.webp", REJECT, "Animated images"),
    "1x1 image": (lambda: encode(Image.new("RGB", (1, 1)), "PNG"), "dot.png", REJECT, "at least 512 px"),
    "just under the minimum side": (lambda: jpeg(17, size=(900, 511)), "small.jpg", REJECT, "at least 512 px"),
    "40000 px wide strip": (
        lambda: encode(Image.new("RGB", (40000, 600), "white"), "JPEG"),
        "strip.jpg",
        REJECT,
        "too narrow",
    ),
    "bmp": (lambda: encode(scene(18), "BMP"), "old.bmp", REJECT, "BMP files are not accepted"),
    "tiff": (lambda: encode(scene(19), "TIFF"), "scan.tiff", REJECT, "TIFF files are not accepted"),
    "jpeg named .png": (lambda: jpeg(20), "wrong.png", ACCEPT, ""),
    "png named .jpg": (lambda: encode(scene(21), "PNG"), "wrong.jpg", ACCEPT, ""),
    "webp": (lambda: encode(scene(22), "WEBP", quality=85), "photo.webp", ACCEPT, ""),
    "heic": (lambda: encode(scene(23), "HEIF", quality=80), "IMG_0001.HEIC", ACCEPT, ""),
    "jpeg with a second image (mpo)": (multi_picture_jpeg, "DSC_0001.JPG", ACCEPT, ""),
    "corrupt bytes in the middle": (corrupt_middle, "corrupt.jpg", EITHER, ""),
    "unicode file name": (lambda: jpeg(24), "фото 📷 café.jpg", ACCEPT, ""),
    "path traversal file name": (lambda: jpeg(25), "../../../../etc/passwd.jpg", ACCEPT, ""),
    "windows path file name": (lambda: jpeg(26), "C:\\Users\\eve\\evil.jpg", ACCEPT, ""),
    "control characters in the name": (lambda: jpeg(27), "a\x00b\x1bc.jpg", ACCEPT, ""),
    "300-character file name": (lambda: jpeg(28), "n" * 296 + ".jpg", ACCEPT, ""),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_hostile_file(case, owner_client, project, run_on_commit, settings):
    settings.PROJECT_PHOTOS_MAX = 100
    build, name, expected, message = CASES[case]
    with run_on_commit():
        response = owner_client.post(
            f"/projects/{project.id}/photos/", {"photos": [upload(build(), name)]}, HTTP_ACCEPT="application/json"
        )
    assert response.status_code in (200, 400)
    body = response.json()
    photos = list(Photo.objects.all())
    if expected == REJECT or (expected == EITHER and body["rejected"]):
        assert body["accepted"] == []
        [rejection] = body["rejected"]
        assert message.lower() in rejection["error"].lower()
        assert photos == []
    else:
        [photo] = photos
        assert photo.status == Photo.Status.READY, photo.error
        assert not set("/\\") & set(photo.original_filename)
        assert all(ch.isprintable() for ch in photo.original_filename)
        assert len(photo.original_filename) <= 255
        assert photo.original.name.endswith(f"{photo.key.hex}/original.{photo.original.name.rsplit('.', 1)[1]}")
    # Nothing half-written: every stored object belongs to a photo, and every photo's files exist.
    assert stored_files() == referenced_files()


def test_the_suite_has_at_least_thirty_cases():
    assert len(CASES) >= 30


def test_a_file_over_the_byte_limit_is_refused(owner_client, project, settings):
    settings.PHOTO_MAX_BYTES = 10_000
    response = owner_client.post(
        f"/projects/{project.id}/photos/", {"photos": [upload(jpeg(29), "big.jpg")]}, HTTP_ACCEPT="application/json"
    )
    assert "the limit is" in response.json()["rejected"][0]["error"]
    assert stored_files() == set()


def test_good_files_in_the_same_upload_still_succeed(owner_client, project, run_on_commit):
    files = [
        upload(jpeg(30), "good1.jpg"),
        upload(b"", "empty.jpg"),
        upload(HTML, "page.jpg"),
        upload(jpeg(31), "good2.jpg"),
    ]
    with run_on_commit():
        body = owner_client.post(
            f"/projects/{project.id}/photos/", {"photos": files}, HTTP_ACCEPT="application/json"
        ).json()
    assert sorted(item["name"] for item in body["accepted"]) == ["good1.jpg", "good2.jpg"]
    assert sorted(item["name"] for item in body["rejected"]) == ["empty.jpg", "page.jpg"]
    assert Photo.objects.filter(status=Photo.Status.READY).count() == 2


def test_originals_are_served_as_downloads_with_their_real_type(owner_client, project, run_on_commit):
    with run_on_commit():
        owner_client.post(f"/projects/{project.id}/photos/", {"photos": [upload(jpeg(32) + HTML, "poly.html")]})
    photo = Photo.objects.get()
    response = owner_client.get(f"/projects/files/{photo.id}/original/")
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["website", "api"])
def test_a_jpeg_carrying_a_second_image_becomes_a_photo_of_its_first(path, owner, project, run_on_commit):
    """Every upload path takes it (the website's form and the API), and the library describes it."""
    from rest_framework.test import APIClient

    from library.models import LibraryItem

    client = APIClient()
    client.force_login(owner)
    url, field = {
        "website": (f"/projects/{project.id}/photos/", "photos"),
        "api": (f"/api/v1/projects/{project.id}/photos/", "files"),
    }[path]
    with run_on_commit():
        response = client.post(
            url, {field: [upload(multi_picture_jpeg(), "DSC_0001.JPG")]}, HTTP_ACCEPT="application/json"
        )
    assert response.json()["rejected"] == []
    [photo] = Photo.objects.all()
    assert photo.status == Photo.Status.READY, photo.error
    assert (photo.format, photo.width, photo.height) == ("JPEG", 1000, 800)
    assert photo.original.name.endswith("/original.jpg")
    with photo.training_image.open("rb") as training, Image.open(training) as rendered:
        assert rendered.format == "JPEG"
        assert rendered.size == (1000, 800)
    item = LibraryItem.objects.get(photo=photo)
    assert item.status == LibraryItem.Status.DONE, item.error
    assert (item.width, item.height) == (1000, 800)
