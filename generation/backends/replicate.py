"""Images from black-forest-labs/flux-dev-lora on Replicate, through the real replicate client."""

import httpx
from django.conf import settings

from generation.backends.base import GenerationBackend, LoraSource, OutputGone, ProviderPrediction
from integrations import replicate as replicate_api


def _prediction(payload: dict) -> ProviderPrediction:
    output = payload.get("output")
    outputs = [output] if isinstance(output, str) else [url for url in (output or []) if isinstance(url, str)]
    metrics = payload.get("metrics") or {}
    return ProviderPrediction(
        id=payload["id"],
        status=payload.get("status", ""),
        outputs=outputs,
        error=str(payload.get("error") or ""),
        gpu_seconds=metrics.get("predict_time"),
        data_removed=bool(payload.get("data_removed")),
    )


class ReplicateGenerationBackend(GenerationBackend):
    name = "replicate"
    sends_webhooks = True

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
        body = {"input": self._input(generation, lora)}
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
        from generation.models import Generation

        # Every job sends an explicit seed, so prompt and seed together identify its prediction,
        # once the predictions other jobs recorded are left out: "use these settings again"
        # repeats both.
        for payload in replicate_api.request_json("GET", "/v1/predictions").get("results", []):
            sent = payload.get("input") or {}
            if (
                sent.get("prompt") == generation.prompt
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
        # Output files are public, unguessable URLs: no credentials are sent with them.
        if not url.startswith(("https://", "http://")):
            raise OSError(f"Unexpected output address {url[:80]!r}.")
        try:
            with (
                httpx.Client(
                    timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=True, verify=replicate_api.ssl_context()
                ) as http,
                http.stream("GET", url) as response,
            ):
                if response.status_code in (404, 410):
                    raise OutputGone("The provider no longer has this image.")
                if response.status_code != 200:
                    raise replicate_api.mapped_error(
                        httpx.HTTPStatusError("output", request=response.request, response=response)
                    )
                content = b""
                for chunk in response.iter_bytes(256 * 1024):
                    content += chunk
                    if len(content) > max_bytes:
                        raise OSError(f"An image is larger than {max_bytes // (1024 * 1024)} MB.")
                return content
        except httpx.TransportError as exc:
            raise replicate_api.mapped_error(exc) from exc

    def parse_webhook(self, *, payload: dict) -> ProviderPrediction:
        return _prediction(payload)

    def webhook_secret(self) -> str:
        return replicate_api.webhook_secret()
