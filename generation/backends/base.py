"""The port between generation services and an image provider."""

from abc import ABC
from collections.abc import Iterator, Set
from dataclasses import dataclass, field

# Stands for an output that is not an address (a number, an object): stored as a refusal.
UNREADABLE_OUTPUT = "unreadable:"


@dataclass(frozen=True)
class ProviderPrediction:
    """A provider's view of one prediction, in its own status words."""

    id: str
    status: str  # starting | processing | succeeded | failed | canceled | aborted
    outputs: list[str] = field(default_factory=list)
    error: str = ""
    gpu_seconds: float | None = None
    # Replicate removes inputs and outputs an hour after a prediction ends.
    data_removed: bool = False


@dataclass(frozen=True)
class LoraSource:
    """Where the provider downloads the LoRA from, and the token it needs (private Hub repos)."""

    url: str
    hf_token: str = ""


@dataclass(frozen=True)
class RenderedImage:
    """An image a synchronous provider returned directly."""

    content: bytes
    seed: int


class GenerationBackend(ABC):
    name: str
    simulated = False
    # Whether the provider calls our webhook; without, polling alone drives jobs.
    # Synchronous providers return images from one blocking call (render); the others run
    # predictions that are polled (submit/fetch) and whose outputs are downloaded.
    synchronous = False

    def render(self, *, generation, skip: Set[int] = frozenset()) -> Iterator[tuple[int, RenderedImage]]:
        """(output index, image) pairs, one at a time, leaving out the indexes in skip."""
        raise NotImplementedError

    def submit(self, *, generation, lora: LoraSource | None, webhook_url: str | None) -> ProviderPrediction:
        """Start a prediction. Not idempotent at the provider: callers guard against repeats."""
        raise NotImplementedError

    def find_submitted(self, *, generation) -> ProviderPrediction | None:
        """A prediction already started for this job, if a crashed attempt got that far."""
        return None

    def fetch(self, *, provider_id: str) -> ProviderPrediction:
        raise NotImplementedError

    def cancel(self, *, provider_id: str) -> None:
        raise NotImplementedError

    def download(self, *, url: str, max_bytes: int) -> bytes:
        """One output image; raises OutputGone, OutputUnusable (too large, an address we do not
        read) or TransientProviderError."""
        raise NotImplementedError

    def parse_webhook(self, *, payload: dict) -> ProviderPrediction:
        raise NotImplementedError

    def verify_webhook(self, *, headers, body: bytes) -> str:
        """The delivery's webhook id once its signature checks out; raises otherwise."""
        raise NotImplementedError

    def webhook_secret(self) -> str:
        raise NotImplementedError


def image_seed(generation, index: int) -> int:
    """The seed behind one image: providers that render one image per call use seed + index."""
    return (generation.seed + index) % 2**32


def dimensions(aspect_ratio: str, megapixels: float = 1.0) -> tuple[int, int]:
    """Width and height for an aspect ratio at about this many megapixels, in multiples of 16 (FLUX)."""
    across, down = (int(part) for part in aspect_ratio.split(":"))
    unit = (megapixels * 1_000_000 / (across * down)) ** 0.5
    return max(16, round(across * unit / 16) * 16), max(16, round(down * unit / 16) * 16)
