"""library.embeddings: the model files are checked before use."""

from pathlib import Path

import pytest

from library import embeddings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_a_tampered_model_file_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "minilm_tokenizer.json"
    fake.write_bytes(Path(embeddings.TOKENIZER).read_bytes() + b" ")
    with pytest.raises(embeddings.ModelIntegrityError, match="pinned sha256"):
        embeddings._verified(fake, embeddings.TOKENIZER_SHA256)
