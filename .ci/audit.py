"""Report of `pip-audit -f json` (make audit): known vulnerabilities of the installed
dependencies, and the packages that could not be checked.

pip-audit says "No known vulnerabilities found" even when it could check nothing (the
advisory service unreachable, a mirror without it): here every package that was not
checked, other than the tool's own editable install, fails the audit too.

With AUDIT_UNREACHABLE_OK=1 (set by .ci/run: CI machines may have no route to the
advisory data), unchecked packages only print a warning; a known vulnerability still
fails.

Usage: python .ci/audit.py REPORT.json PIP_AUDIT_EXIT_STATUS
"""

from __future__ import annotations

import json
import os
import sys


def main(path: str, status: str) -> int:
    try:
        with open(path) as fh:
            report = json.load(fh)
    except (OSError, ValueError) as exc:
        print(f"pip-audit gave no report (exit status {status}): {exc}")
        return 1
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    unchecked = [
        d for d in deps if d.get("skip_reason") and "editable" not in d.get("skip_reason", "")
    ]
    for d in vulnerable:
        for v in d["vulns"]:
            fixes = ", ".join(v.get("fix_versions") or []) or "no fix yet"
            print(f"VULNERABLE {d['name']} {d['version']}: {v['id']} (fixed in {fixes})")
    if unchecked:
        print(f"{len(unchecked)} of {len(deps)} packages could not be checked, e.g.:")
        for d in unchecked[:5]:
            print(f"  {d['name']}: {d['skip_reason']}")
        print("Is the advisory database (PyPI's JSON API, or OSV with -s osv) reachable?")
    checked = len(deps) - len(unchecked)
    if not vulnerable and not unchecked:
        print(f"pip-audit: {checked} packages checked, no known vulnerabilities")
    if unchecked and not vulnerable and os.environ.get("AUDIT_UNREACHABLE_OK") == "1":
        print("WARNING: the audit could not check these packages (AUDIT_UNREACHABLE_OK=1)")
        return 0
    return 1 if vulnerable or unchecked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "?"))
