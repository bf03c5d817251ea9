"""library.embeddings: the model files are checked before use."""

import subprocess
import sys
from pathlib import Path

from library import embeddings

ROOT = Path(__file__).resolve().parents[2]

# The model loads once per process: a fresh interpreter loads it from the tampered file.
LOAD_TAMPERED = """
import sys
from pathlib import Path

from library import embeddings

embeddings.TOKENIZER = Path(sys.argv[1])
try:
    embeddings.preload()
except embeddings.ModelIntegrityError as error:
    print(error)
    sys.exit(3)
"""


def test_a_tampered_model_file_is_refused(tmp_path):
    fake = tmp_path / "minilm_tokenizer.json"
    fake.write_bytes(Path(embeddings.TOKENIZER).read_bytes() + b" ")
    loaded = subprocess.run(
        [sys.executable, "-c", LOAD_TAMPERED, str(fake)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert loaded.returncode == 3, loaded.stderr
    assert "minilm_tokenizer.json does not match its pinned sha256" in loaded.stdout
