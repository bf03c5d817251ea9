"""`make fuzz-providers`: the provider fuzzer (fuzz/) for many examples, ending with one line.

    providers: runs=N jobs=M stuck=0 duplicate_emails=0 duplicate_creates=0 unclassified=0 max_requests_per_run=K

Each example is one training run and up to two generation jobs whose provider behaviour
Hypothesis invents (see fuzz/machine.py). The run fails (exit 1) when any of the zeros is not
zero, or when another invariant broke (a missing email, a duplicate image or Hub commit, requests
over their bound): pytest's log, with the shrunk example, is kept under var/fuzz/.
Uses the embedded SQLite test database, or DATABASE_URL when it is set.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZEROS = ("stuck", "duplicate_emails", "duplicate_creates", "unclassified")
ALSO_ZERO = ("missing_emails", "duplicate_images", "duplicate_commits", "over_bound")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000, help="examples (one training run each)")
    options = parser.parse_args()
    folder = ROOT / "var" / "fuzz"
    folder.mkdir(parents=True, exist_ok=True)
    report, log = folder / "totals.json", folder / "pytest.log"
    report.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:logging",
        "fuzz/test_providers.py",
        f"--fuzz-examples={options.runs}",
        f"--fuzz-report={report}",
    ]
    with log.open("w") as output:
        finished = subprocess.run(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, check=False)
    if not report.exists():
        print(f"providers: the fuzzer did not run; see {log}")
        return 1
    totals = json.loads(report.read_text())
    line = (
        f"providers: runs={totals['runs']} jobs={totals['jobs']} "
        + " ".join(f"{name}={totals[name]}" for name in ZEROS)
        + f" max_requests_per_run={totals['max_requests_per_run']}"
    )
    broken = [name for name in ZEROS + ALSO_ZERO if totals[name]]
    if broken or finished.returncode != 0:
        for problem in totals["problems"][:5]:
            print(f"  {problem[:300]}", file=sys.stderr)
        print(
            f"  broken: {', '.join(broken) or 'see the log'}; pytest log with the shrunk example: {log}",
            file=sys.stderr,
        )
    print(line)
    return 1 if broken or finished.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
