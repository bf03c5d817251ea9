"""A simulated training provider for demo mode: same states, logs and outputs, on a short timer.

Nothing leaves the machine. The "LoRA" it produces is a tiny, valid safetensors file whose
metadata and name say it is simulated.
"""

import io
import json
import math
import secrets
import struct
import tarfile
import time
from datetime import datetime

from django.conf import settings

from core.demo import DEMO_BACKEND
from training.backends.base import ProviderTraining, TrainingBackend

STARTUP_SECONDS = 2


def simulated_safetensors() -> bytes:
    header = {
        "__metadata__": {"format": "pt", "photoagent": "SIMULATED demo LoRA - not a real model"},
        "lora_A": {"dtype": "F32", "shape": [1, 4], "data_offsets": [0, 16]},
    }
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + b"\0" * 16


class DemoTrainingBackend(TrainingBackend):
    name = DEMO_BACKEND
    simulated = True

    def dataset_url(self, *, run, dataset_name: str) -> str:
        return f"demo://datasets/{dataset_name}"

    def submit(self, *, run, dataset_url: str, webhook_url: str | None) -> ProviderTraining:
        # The id carries what the simulation needs, so no state is kept anywhere.
        provider_id = f"demo-{run.steps}-{int(time.time())}-{secrets.token_hex(4)}"
        return ProviderTraining(id=provider_id, status="starting")

    def find_submitted(self, *, dataset_url: str, since: datetime | None = None) -> ProviderTraining | None:
        return None

    def fetch(self, *, provider_id: str) -> ProviderTraining:
        _, step_count, started, _ = provider_id.split("-")
        steps, elapsed = int(step_count), max(0.0, time.time() - int(started))
        duration = settings.DEMO_TRAINING_SECONDS
        if duration and elapsed < min(STARTUP_SECONDS, duration):
            return ProviderTraining(id=provider_id, status="starting", logs="Simulated: booting a (pretend) GPU\n")
        done = (
            1.0 if duration <= STARTUP_SECONDS else min(1.0, (elapsed - STARTUP_SECONDS) / (duration - STARTUP_SECONDS))
        )
        logs = self._logs(steps, done)
        if done < 1.0:
            return ProviderTraining(id=provider_id, status="processing", logs=logs)
        return ProviderTraining(
            id=provider_id,
            status="succeeded",
            logs=logs,
            gpu_seconds=float(duration),
            weights_url=f"demo://weights/{provider_id}.tar",
            version=f"demo/simulated:{provider_id.rsplit('-', 1)[1] * 8}",
        )

    @staticmethod
    def _logs(steps: int, done: float) -> str:
        lines = ["Simulated training (demo mode): no GPU is used and no real model is produced."]
        for tenth in range(1, int(done * 10) + 1):
            step = steps * tenth // 10
            loss = 0.25 + 0.35 * math.exp(-3 * tenth / 10)
            lines.append(
                f"flux_train_replicate: {tenth * 10}%| {step}/{steps} [00:00<00:00, lr: 4.0e-04 loss: {loss:.3e}]"
            )
        return "\n".join(lines) + "\n"

    def cancel(self, *, provider_id: str) -> None:
        return None

    def open_weights(self, *, training: ProviderTraining, max_bytes: int):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, content in (
                ("output/flux_train_replicate/lora.safetensors", simulated_safetensors()),
                ("output/flux_train_replicate/SIMULATED.txt", b"Demo mode: this LoRA is simulated.\n"),
            ):
                info = tarfile.TarInfo(name)
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
        buffer.seek(0)
        return buffer
