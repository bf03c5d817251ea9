import io
import random
from pathlib import Path

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from accounts.tests.factories import UserFactory
from projects.models import Membership, Project, Role

PHOTOS = Path(__file__).parent / "photos"


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    category = Project.Category.PRODUCT
    trigger_word = factory.Sequence(lambda n: f"TOKQX{n}")


def scene(seed: int, size=(1200, 1000), mode="RGB") -> Image.Image:
    """A sharp, varied synthetic 'photo': different seeds give perceptually different images."""
    rng = random.Random(seed)
    img = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        x1, y1 = x0 + rng.randrange(40, size[0] // 2), y0 + rng.randrange(40, size[1] // 2)
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x0, y0, x1, y1), fill=tuple(rng.randrange(256) for _ in range(3)))
    return img.convert(mode) if mode != "RGB" else img


def encode(img: Image.Image, image_format="JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, image_format, **options)
    return buffer.getvalue()


def upload(content: bytes, name="photo.jpg", content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def photo_upload(seed: int, name: str | None = None, **scene_options) -> SimpleUploadedFile:
    return upload(encode(scene(seed, **scene_options), quality=90), name or f"photo-{seed}.jpg")


class MembershipFactory(factory.django.DjangoModelFactory):
    """A member other than the owner (the owner's membership comes with the project)."""

    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.EDITOR
