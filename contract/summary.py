"""Print the contract summary line from Prism's log and the SendGrid checks (var/)."""

import json
import re
from pathlib import Path

VAR = Path(__file__).resolve().parent.parent / "var"
# The spec documents almost no error statuses; a 404 from models.get (how we learn that the
# destination model must be created) is a gap in the spec, not a violation by us.
UNDOCUMENTED_STATUS = "Unable to match the returned status code"


def summarize() -> str:
    log = (VAR / "prism.log").read_text()
    result = json.loads((VAR / "contract.json").read_text())
    requests = len(re.findall(r"Request received", log))
    violations = [
        line.strip()
        for line in log.splitlines()
        if ("Violation:" in line or "✖  error" in line) and UNDOCUMENTED_STATUS not in line
    ]
    for line in violations + result["email_violations"]:
        print("violation:", line)
    undocumented = sum(UNDOCUMENTED_STATUS in line for line in log.splitlines())
    print(f"note: {undocumented} response(s) with a status the spec does not document (404 on models.get)")
    total = len(violations) + len(result["email_violations"])
    return f"contract: requests={requests + result['emails']} violations={total}"


if __name__ == "__main__":
    print(summarize())
