"""integrations.huggingface.embed_texts: the real InferenceClient.feature_extraction against the
local inference stand-in, and every way it can fail mapped to transient or permanent."""

import socket

import numpy as np
import pytest

from core.exceptions import PermanentProviderError, TransientProviderError
from integrations import huggingface
from standins.huggingface_inference import serving_embeddings


@pytest.fixture
def inference(settings):
    with serving_embeddings(settings) as server:
        yield server


def test_texts_are_posted_to_the_feature_extraction_pipeline_as_one_batch(inference):
    vectors = huggingface.embed_texts(texts=["a red tractor", "a wheat field"], prompt_name="query")

    assert vectors.shape == (2, inference.dimensions)
    assert vectors.dtype == np.float32
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0], abs=1e-6)
    [call] = inference.requests
    assert call.path == "/hf-inference/models/Qwen/Qwen3-Embedding-0.6B/pipeline/feature-extraction"
    assert call.headers["authorization"] == "Bearer hf_standin"
    # The feature-extraction spec puts the parameters at the root, next to the inputs.
    assert call.json == {
        "inputs": ["a red tractor", "a wheat field"],
        "normalize": True,
        "truncate": True,
        "prompt_name": "query",
    }


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ((503, {"error": "Model Qwen/Qwen3-Embedding-0.6B is currently loading", "estimated_time": 20}), "503"),
        ((429, {"error": "Rate limit reached"}), "429"),
        ((500, {"error": "CUDA out of memory"}), "500"),
    ],
)
def test_a_loading_or_overloaded_model_is_a_transient_error(inference, fault, expected):
    inference.fail_next(*fault)
    with pytest.raises(TransientProviderError, match=f"The embedding model answered {expected}"):
        huggingface.embed_texts(texts=["a red tractor"])


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ((401, {"error": "Invalid credentials in Authorization header"}), "401"),
        ((404, {"error": "Model not found"}), "404"),
        ((400, {"error": "Model Qwen/Qwen3-VL is not a feature-extraction model"}), "400"),
    ],
)
def test_credentials_or_a_wrong_model_are_a_permanent_error(inference, fault, expected):
    inference.fail_next(*fault)
    with pytest.raises(PermanentProviderError, match=f"The embedding model answered {expected}"):
        huggingface.embed_texts(texts=["a red tractor"])


def test_a_batch_larger_than_the_server_takes_is_refused_permanently(inference):
    with pytest.raises(PermanentProviderError, match="413.*maximum allowed batch size 32"):
        huggingface.embed_texts(texts=[f"text {number}" for number in range(33)])


def test_a_slow_answer_times_out_as_a_transient_error(inference, settings):
    settings.HF_EMBEDDING_TIMEOUT = 0.2
    inference.slow_next(0.6)
    with pytest.raises(TransientProviderError, match="did not answer within 0.2 s"):
        huggingface.embed_texts(texts=["a red tractor"])


def test_an_unreachable_endpoint_is_a_transient_error(inference, settings):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings.HF_EMBEDDING_URL = f"http://127.0.0.1:{port}/pipeline/feature-extraction"
    with pytest.raises(TransientProviderError, match="unreachable"):
        huggingface.embed_texts(texts=["a red tractor"])


def test_an_answer_that_is_not_json_is_a_transient_error(inference):
    inference.answer_next(b"<html>502 Bad Gateway</html>")
    with pytest.raises(TransientProviderError, match="could not be read"):
        huggingface.embed_texts(texts=["a red tractor"])


@pytest.mark.parametrize(
    "body",
    [
        b'{"error": "not an embedding"}',  # an object, not vectors
        b"[0.1, 0.2, 0.3]",  # one vector for two texts
        b"[[0.1, 0.2], [0.3]]",  # ragged
        b"[[[0.1, 0.2]], [[0.3, 0.4]]]",  # token embeddings (a model without pooling)
    ],
)
def test_an_answer_that_is_not_one_vector_per_text_is_a_permanent_error(inference, body):
    inference.answer_next(body)
    with pytest.raises(PermanentProviderError, match="embedding model"):
        huggingface.embed_texts(texts=["a red tractor", "a wheat field"])
