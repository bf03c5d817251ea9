"""The port between training services and a training provider."""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import IO


@dataclass(frozen=True)
class ProviderTraining:
    """A provider's view of one training, in its own status words."""

    id: str
    status: str  # starting | processing | succeeded | failed | canceled | aborted
    logs: str = ""
    error: str = ""
    gpu_seconds: float | None = None
    weights_url: str = ""
    version: str = ""


class TrainingBackend(ABC):
    name: str
    simulated = False
    # Whether the provider calls our webhook; without, polling alone drives runs.

    @abstractmethod
    def dataset_url(self, *, run, dataset_name: str) -> str:
        """A URL the provider can download the dataset zip from."""

    @abstractmethod
    def submit(self, *, run, dataset_url: str, webhook_url: str | None) -> ProviderTraining:
        """Start a training. Not idempotent at the provider: callers guard against repeats."""

    @abstractmethod
    def find_submitted(self, *, dataset_url: str, since: datetime | None = None) -> ProviderTraining | None:
        """A training already started for this dataset, if a crashed attempt got that far (and
        after `since`, when the caller knows how far back that can be)."""

    @abstractmethod
    def fetch(self, *, provider_id: str) -> ProviderTraining:
        """The training's current state."""

    @abstractmethod
    def cancel(self, *, provider_id: str) -> ProviderTraining | None:
        """Ask the provider to stop the training; its state after, when the provider says."""

    @abstractmethod
    def open_weights(self, *, training: ProviderTraining, max_bytes: int) -> IO[bytes]:
        """The trained weights (a tar) as a context manager giving a reader; raises OutputGone,
        OutputUnusable (too large, not a URL we read) or TransientProviderError."""

    def parse_webhook(self, *, payload: dict) -> ProviderTraining:
        raise NotImplementedError

    def verify_webhook(self, *, headers, body: bytes) -> str:
        """The delivery's webhook id once its signature checks out; raises otherwise."""
        raise NotImplementedError

    def webhook_secret(self) -> str:
        raise NotImplementedError
