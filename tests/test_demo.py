"""`make demo`'s script as a user runs it, the quick way (`--borrowers 20`): it tells its story in
one line per price step with no line per transaction, ends with the report, draws three PNG
pictures in the folder it names, states its peak memory, and exits 0 with nothing left
liquidatable."""

import subprocess
import sys
from pathlib import Path

from scripts._deployment import ROOT

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_quick_demo_tells_its_story(tmp_path):
    ape = Path(sys.executable).parent / "ape"
    charts = tmp_path / "charts"
    run = subprocess.run(
        [str(ape), "run", "demo", "--borrowers", "20", "--charts", str(charts)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = run.stdout
    assert run.returncode == 0, (out + run.stderr)[-3000:]
    steps = [line for line in out.splitlines() if line.startswith("  ETH $")]
    assert len(steps) == 5 and all("kicks" in s and "bad debt so far" in s for s in steps)
    assert "Confirmed 0x" not in out + run.stderr  # no line per transaction
    assert "Gavel demo report" in out and "liquidatable accounts left    0" in out
    # It says why an account was kicked more than once, and what borrowers lost beside the keeper.
    assert "accounts kicked more than once" in out and "(the close factor)" in out
    (loss,) = [line for line in out.splitlines() if line.startswith("  borrowers' loss")]
    assert float(loss.split()[2].replace(",", "")) > 0 and "keeper profit" in out
    for name in ("price_path.png", "clearing_vs_oracle.png", "health.png"):
        assert (charts / name).read_bytes()[:8] == PNG and str(charts / name) in out
    (memory,) = [line for line in out.splitlines() if "peak memory" in line]
    assert "Anvil" in memory and len(out.splitlines()) < 45
