"""Base-model images from FLUX.1-dev on Hugging Face Inference: one blocking call per image."""

from collections.abc import Iterator, Set

from generation.backends.base import GenerationBackend, RenderedImage, dimensions, image_seed
from integrations import huggingface


class HuggingFaceGenerationBackend(GenerationBackend):
    name = "huggingface"
    synchronous = True

    def render(self, *, generation, skip: Set[int] = frozenset()) -> Iterator[tuple[int, RenderedImage]]:
        width, height = dimensions(generation.aspect_ratio)
        for index in range(generation.num_outputs):
            if index in skip:
                continue
            seed = image_seed(generation, index)
            content = huggingface.text_to_image(
                prompt=generation.prompt,
                width=width,
                height=height,
                steps=generation.steps,
                guidance=generation.guidance,
                seed=seed,
                image_format=generation.output_format,
            )
            yield index, RenderedImage(content=content, seed=seed)
