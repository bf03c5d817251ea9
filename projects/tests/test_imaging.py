import io

import pytest
from PIL import Image, ImageCms, ImageFilter

from projects import imaging
from projects.tests.factories import PHOTOS, encode, scene

LIMITS = {"max_bytes": 50_000_000, "max_pixels": 64_000_000, "min_side": 512}


def derive(content: bytes) -> imaging.Derivatives:
    return imaging.render_derivatives(io.BytesIO(content))


def opened(content: bytes) -> Image.Image:
    return Image.open(io.BytesIO(content))


def with_exif(img: Image.Image, **tags) -> bytes:
    exif = Image.Exif()
    for tag, value in tags.items():
        exif[int(tag.lstrip("t"), 16)] = value
    return encode(img, "JPEG", quality=90, exif=exif)


def test_sizes_of_the_derivatives():
    result = derive(encode(scene(1, size=(4000, 3000)), quality=90))
    assert opened(result.training_jpeg).size == (1536, 1152)
    assert opened(result.thumbnail_webp).size == (400, 300)
    assert opened(result.preview_webp).size == (96, 72)
    assert opened(result.training_jpeg).format == "JPEG"
    assert opened(result.thumbnail_webp).format == "WEBP"


def test_small_photos_are_not_upscaled():
    result = derive(encode(scene(2, size=(800, 600)), quality=90))
    assert opened(result.training_jpeg).size == (800, 600)


def test_exif_orientation_is_applied():
    # A landscape sensor image tagged "rotate 90° clockwise" is a portrait photo.
    img = scene(3, size=(1600, 1200))
    img.paste((255, 0, 0), (0, 0, 200, 200))  # red block in the top-left corner of the sensor image
    content = with_exif(img, t0112=6)
    info = imaging.inspect_upload(io.BytesIO(content), **LIMITS)
    assert (info.width, info.height) == (1200, 1600)
    training = opened(derive(content).training_jpeg)
    assert training.size == (1152, 1536)
    # After rotating 90° clockwise, the red corner is at the top right.
    red, green, blue = training.getpixel((training.width - 20, 20))
    assert (red > 200, green < 60, blue < 60) == (True, True, True)


def test_every_derivative_is_stripped_of_metadata():
    gps = {1: "N", 2: (52.0, 22.0, 5.0), 3: "E", 4: (4.0, 53.0, 0.0)}
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 15"
    exif.get_ifd(0x8825).update(gps)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    content = encode(scene(4), "JPEG", exif=exif, icc_profile=icc, comment=b"secret location")
    assert opened(content).getexif().get_ifd(0x8825)  # the original does carry GPS
    result = derive(content)
    for derived in (result.training_jpeg, result.thumbnail_webp, result.preview_webp):
        image = opened(derived)
        assert not image.getexif()
        assert "icc_profile" not in image.info
        assert "comment" not in image.info
        assert b"PhoneMaker" not in derived
        assert b"secret location" not in derived


def test_cmyk_jpeg_becomes_rgb():
    result = derive(encode(scene(5, mode="CMYK"), "JPEG"))
    assert opened(result.training_jpeg).mode == "RGB"


def test_an_embedded_colour_profile_is_converted_to_srgb():
    lab_like = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    content = encode(scene(6), "JPEG", icc_profile=lab_like.tobytes())
    training = opened(derive(content).training_jpeg)
    assert training.mode == "RGB"
    assert "icc_profile" not in training.info


def test_sixteen_bit_greyscale_png_keeps_its_tones():
    import numpy as np

    pixels = np.zeros((600, 800), dtype=np.uint16)
    pixels[:, :400] = 40000  # 40000 / 65535 ≈ 61 % grey
    img = Image.fromarray(pixels)
    result = derive(encode(img, "PNG"))
    value = opened(result.training_jpeg).convert("L").getpixel((100, 100))
    assert 145 <= value <= 165


def test_transparency_is_flattened_on_white():
    img = Image.new("RGBA", (800, 600), (0, 0, 0, 0))
    img.paste((10, 20, 200, 255), (0, 0, 400, 600))
    training = opened(derive(encode(img, "PNG")).training_jpeg)
    assert training.getpixel((700, 300))[0] > 245  # the transparent half is white, not black
    assert training.getpixel((100, 300))[2] > 180


def test_heic_photos_are_accepted():
    content = encode(scene(7, size=(1200, 900)), "HEIF", quality=80)
    info = imaging.inspect_upload(io.BytesIO(content), **LIMITS)
    assert info.format == "HEIF"
    assert opened(derive(content).training_jpeg).size == (1200, 900)


@pytest.mark.parametrize("name", ["astronaut.jpg", "grace_hopper.jpg", "coffee.jpg"])
def test_real_photographs(name):
    content = (PHOTOS / name).read_bytes()
    info = imaging.inspect_upload(io.BytesIO(content), max_bytes=10**8, max_pixels=10**8, min_side=256)
    result = derive(content)
    assert opened(result.training_jpeg).size == (info.width, info.height)
    assert len(result.phash) == 16
    assert result.blur_score > 200


def test_blur_score_separates_sharp_from_blurry():
    sharp = Image.open(PHOTOS / "coffee.jpg").convert("RGB")
    blurry = sharp.filter(ImageFilter.GaussianBlur(4))
    assert imaging.blur_score(sharp) > 200
    assert imaging.blur_score(blurry) < 60


def test_near_duplicates_are_close_and_different_photos_are_far():
    original = derive(encode(scene(8), quality=95)).phash
    recompressed = derive(encode(scene(8).resize((1000, 833)), quality=60)).phash
    other = derive(encode(scene(9), quality=95)).phash
    assert imaging.phash_distance(original, recompressed) <= 8
    assert imaging.phash_distance(original, other) > 8


def test_sha256_and_size_are_of_the_original_bytes():
    import hashlib

    content = encode(scene(10), quality=90)
    info = imaging.inspect_upload(io.BytesIO(content), **LIMITS)
    assert info.sha256 == hashlib.sha256(content).hexdigest()
    assert info.bytes == len(content)
