"""Make targets that need more than the first install gave: they fix it or stop with the remedy."""

import shutil
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def make(target: str, tmp_path: Path) -> subprocess.CompletedProcess:
    # A venv whose python lacks MySQLdb, on a machine without the MariaDB client headers; the
    # install step is taken as done (-o), so only the target's own check runs.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "calls"}\nexit 1\n')
    (bin_dir / "python").chmod(0o755)
    return subprocess.run(
        ["make", "-s", "-o", "install", target, f"BIN={bin_dir}", "PKG_CONFIG=false"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("target", ["chaos", "load"])
def test_mariadb_targets_stop_at_once_with_the_commands_that_fix_them(tmp_path, target):
    result = make(target, tmp_path)
    assert result.returncode != 0
    assert f"sudo apt-get install libmariadb-dev pkg-config && make {target}" in result.stderr
    # Stopped before the benchmark started (it would have failed later, on the import).
    calls = (tmp_path / "calls").read_text()
    assert "import MySQLdb" in calls
    assert "bench/" not in calls
