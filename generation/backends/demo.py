"""A simulated image provider for demo mode: same states and outputs as Replicate, on a short timer.

Nothing leaves the machine. Each image is drawn locally: a backdrop from the seed, for person and
product models one of the project's own photos as the "subject", the prompt, and a banner saying
the image is simulated.
"""

import io
import random
import secrets
import textwrap
import time

from django.conf import settings
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw, ImageFont, ImageOps

from core.demo import DEMO_BACKEND
from core.formats import PIL_FORMATS
from generation.backends.base import GenerationBackend, LoraSource, ProviderPrediction, dimensions, image_seed
from generation.models import Generation

# Drawn smaller than a real 1-megapixel output: it is a placeholder, and quick to make.
LONG_SIDE = 768


class DemoGenerationBackend(GenerationBackend):
    name = DEMO_BACKEND
    simulated = True

    def submit(self, *, generation, lora: LoraSource | None, webhook_url: str | None) -> ProviderPrediction:
        # The id carries what the simulation needs, so no state is kept anywhere.
        provider_id = f"demo-{generation.id}-{int(time.time() * 1000)}-{secrets.token_hex(4)}"
        return self.fetch(provider_id=provider_id)

    def fetch(self, *, provider_id: str) -> ProviderPrediction:
        _, generation_id, started_ms, _ = provider_id.split("-")
        if time.time() - int(started_ms) / 1000 < settings.DEMO_GENERATION_SECONDS:
            return ProviderPrediction(id=provider_id, status="processing")
        generation = Generation.objects.filter(id=int(generation_id)).first()
        count = generation.num_outputs if generation else 0
        return ProviderPrediction(
            id=provider_id,
            status="succeeded",
            outputs=[f"demo://{generation_id}/{index}" for index in range(count)],
            gpu_seconds=float(settings.DEMO_GENERATION_SECONDS),
        )

    def cancel(self, *, provider_id: str) -> None:
        return None

    def download(self, *, url: str, max_bytes: int) -> bytes:
        generation_id, index = url.removeprefix("demo://").split("/")
        generation = Generation.objects.select_related("project").get(id=int(generation_id))
        return draw(generation, int(index))


def _subject(generation, rng: random.Random) -> Image.Image | None:
    """One of the project's photos, chosen by the seed: the simulated "model" output shows it."""
    if generation.project_id is None:
        return None
    names = list(
        generation.project.photos.filter(status="ready", trashed_at__isnull=True)
        .exclude(training_image="")
        .values_list("training_image", flat=True)
    )
    if not names:
        return None
    with default_storage.open(rng.choice(names), "rb") as stored, Image.open(stored) as photo:
        return ImageOps.exif_transpose(photo).convert("RGB")


def draw(generation, index: int) -> bytes:
    seed = image_seed(generation, index)
    rng = random.Random(seed)  # noqa: S311 - a drawing, reproducible from the seed
    width, height = dimensions(generation.aspect_ratio)
    scale = LONG_SIDE / max(width, height)
    width, height = round(width * scale), round(height * scale)

    top, bottom = (tuple(rng.randrange(40, 220) for _ in range(3)) for _ in range(2))
    image = Image.linear_gradient("L").resize((width, height))
    image = ImageOps.colorize(image, top, bottom)
    subject = _subject(generation, rng)
    if subject is not None:
        subject = ImageOps.contain(subject, (int(width * 0.8), int(height * 0.62)))
        image.paste(subject, ((width - subject.width) // 2, int(height * 0.16)))

    canvas = ImageDraw.Draw(image)
    banner = ImageFont.load_default(size=max(14, width // 28))
    canvas.rectangle((0, 0, width, int(height * 0.1)), fill=(20, 20, 20))
    canvas.text((12, int(height * 0.02)), "SIMULATED · demo mode, not a real model output", font=banner, fill="white")
    size = max(12, width // 36)
    body = ImageFont.load_default(size=size)
    lines = textwrap.wrap(generation.prompt, width=max(20, width // (size // 2 + 1)))[:4]
    canvas.rectangle((0, int(height * 0.8), width, height), fill=(255, 255, 255))
    for line_number, line in enumerate(lines):
        canvas.text((12, int(height * 0.81) + line_number * (size + 4)), line, font=body, fill=(20, 20, 20))
    canvas.text((12, height - size - 6), f"seed {seed}", font=body, fill=(110, 110, 110))

    buffer = io.BytesIO()
    image.save(buffer, PIL_FORMATS[generation.output_format], quality=85)
    return buffer.getvalue()
