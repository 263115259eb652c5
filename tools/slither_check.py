"""Slither on Gavel's contracts: exits non-zero on any finding that is neither fixed nor listed,
with a one-line reason, in slither.toml. `make test` runs it (`make slither` alone).

    python tools/slither_check.py --solc .solcx/solc-v0.8.28

Slither compiles through crytic-compile's standard-JSON mode, which is the form tools/solc.js
(the npm WebAssembly compiler) answers. The test-only contracts in contracts/test are left out."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "slither.toml"


def run_slither(solc: Path) -> list[dict]:
    command = [
        "slither",
        "contracts",
        "--solc-standard-json",
        "--solc",
        str(solc),
        "--solc-remaps",
        "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/",
        "--exclude-dependencies",
        "--filter-paths",
        "node_modules|contracts/test",
        "--json",
        "-",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    try:
        output = json.loads(done.stdout)
    except json.JSONDecodeError:
        sys.exit(f"slither did not run: {done.stderr.strip().splitlines()[-1:] or done.stdout[:200]}")
    if not output.get("success"):
        sys.exit(f"slither failed: {output.get('error')}")
    return list(output.get("results", {}).get("detectors", []))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--solc", type=Path, required=True, help="the solc command Slither should use")
    args = parser.parse_args()
    config = tomllib.loads(CONFIG.read_text())
    detectors: dict[str, str] = config.get("detectors", {})
    findings: list[dict[str, str]] = config.get("finding", [])
    for entry in findings:
        missing = {"detector", "match", "reason"} - entry.keys()
        if missing:
            sys.exit(f"{CONFIG.name}: a [[finding]] lacks {', '.join(sorted(missing))}: {entry}")

    results = run_slither(args.solc)
    unexplained, used = [], set()
    for result in results:
        check, first_line = result["check"], result["description"].strip().splitlines()[0]
        if check in detectors:
            used.add(("detector", check))
            continue
        listed = [f for f in findings if f["detector"] == check and f["match"] in first_line]
        if listed:
            used.update(("finding", f["detector"], f["match"]) for f in listed)
            continue
        unexplained.append(f"  {check} ({result['impact']}): {first_line}")

    stale = [f"  [detectors] {d}" for d in detectors if ("detector", d) not in used]
    stale += [
        f"  [[finding]] {f['detector']} / {f['match']}"
        for f in findings
        if ("finding", f["detector"], f["match"]) not in used
    ]
    print(f"slither: {len(results)} findings, {len(results) - len(unexplained)} listed with a reason in {CONFIG.name}")
    if stale:
        print(f"slither: entries in {CONFIG.name} that no longer match anything (remove them):\n" + "\n".join(stale))
    if unexplained:
        print("slither: fix these, or list each in slither.toml with its reason:\n" + "\n".join(unexplained))
        return 1
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
