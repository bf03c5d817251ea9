"""Images from black-forest-labs/flux-dev-lora on Replicate, through the real replicate client."""

from datetime import timedelta

import httpx
from django.conf import settings

from core.exceptions import TransientProviderError
from generation.backends.base import UNREADABLE_OUTPUT, GenerationBackend, LoraSource, ProviderPrediction
from generation.models import Generation
from integrations import replicate as replicate_api
from integrations.replicate import json_object as _object

# Clock skew between us and the provider allowed when reading back a job's prediction.
CLOCK_SKEW = timedelta(minutes=10)


def _prediction(payload: dict) -> ProviderPrediction:
    """A prediction as the API describes it; fields of the wrong type read as absent. Outputs of a
    type we do not read (numbers, objects) are kept as a marker, so the job says so instead of
    waiting for images that never come."""
    if not isinstance(payload.get("id"), str) or not payload["id"]:
        raise TransientProviderError("Replicate described a prediction without an id")
    output = payload.get("output")
    items = output if isinstance(output, list) else [] if output is None else [output]
    outputs = [item if isinstance(item, str) else UNREADABLE_OUTPUT for item in items]
    metrics = _object(payload.get("metrics"))
    gpu_seconds = metrics.get("predict_time")
    return ProviderPrediction(
        id=payload["id"],
        status=payload["status"] if isinstance(payload.get("status"), str) else "",
        outputs=outputs,
        error=str(payload.get("error") or ""),
        gpu_seconds=float(gpu_seconds) if isinstance(gpu_seconds, int | float) and gpu_seconds >= 0 else None,
        data_removed=payload.get("data_removed") is True,
    )


class ReplicateGenerationBackend(GenerationBackend):
    name = "replicate"

    def _input(self, generation, lora: LoraSource | None) -> dict:
        data = {
            "prompt": generation.prompt,
            "num_outputs": generation.num_outputs,
            "aspect_ratio": generation.aspect_ratio,
            "seed": generation.seed,
            "guidance": generation.guidance,
            "num_inference_steps": generation.steps,
            "output_format": generation.output_format,
            "output_quality": 90,
            "megapixels": "1",
            # go_fast (fp8) is not deterministic: with it, "use these settings again" would not
            # give the same images.
            "go_fast": False,
        }
        if lora is not None:
            data["lora_weights"] = lora.url
            data["lora_scale"] = generation.lora_scale
            if lora.hf_token:
                data["hf_api_token"] = lora.hf_token
        return data

    def submit(self, *, generation, lora: LoraSource | None, webhook_url: str | None) -> ProviderPrediction:
        body: dict[str, object] = {"input": self._input(generation, lora)}
        if webhook_url:
            body["webhook"] = webhook_url
            body["webhook_events_filter"] = ["completed"]
        wait = settings.REPLICATE_GENERATION_WAIT_SECONDS
        payload = replicate_api.request_json(
            "POST",
            f"/v1/models/{settings.REPLICATE_GENERATION_MODEL}/predictions",
            json=body,
            headers={"Prefer": f"wait={wait}", "Cancel-After": f"{settings.GENERATION_DEADLINE_MINUTES}m"},
            # The request is held open up to `wait` seconds before the answer starts.
            timeout=httpx.Timeout(wait + settings.REPLICATE_TIMEOUT, connect=10.0),
        )
        return _prediction(payload)

    def find_submitted(self, *, generation) -> ProviderPrediction | None:
        # Every job sends an explicit seed, so prompt and seed together identify its prediction,
        # once the predictions other jobs recorded are left out: "use these settings again"
        # repeats both. Every prediction since the job was created, page after page: one past the
        # first page is still paid for.
        since = generation.created_at - CLOCK_SKEW
        for payload in replicate_api.list_recent("/v1/predictions", since=since):
            sent = payload.get("input")
            if (
                isinstance(sent, dict)
                and isinstance(payload.get("id"), str)
                and sent.get("prompt") == generation.prompt
                and sent.get("seed") == generation.seed
                and not Generation.objects.filter(provider_id=payload["id"]).exclude(id=generation.id).exists()
            ):
                return self.fetch(provider_id=payload["id"])
        return None

    def fetch(self, *, provider_id: str) -> ProviderPrediction:
        return _prediction(replicate_api.request_json("GET", f"/v1/predictions/{provider_id}"))

    def cancel(self, *, provider_id: str) -> None:
        replicate_api.request_json("POST", f"/v1/predictions/{provider_id}/cancel")

    def download(self, *, url: str, max_bytes: int) -> bytes:
        with replicate_api.open_output(url, max_bytes=max_bytes) as output:
            return output.read()

    def parse_webhook(self, *, payload: dict) -> ProviderPrediction:
        return _prediction(payload)

    def verify_webhook(self, *, headers, body: bytes) -> str:
        return replicate_api.verify_delivery(headers=headers, body=body)

    def webhook_secret(self) -> str:
        return replicate_api.webhook_secret()
