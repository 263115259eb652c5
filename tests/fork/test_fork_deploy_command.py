"""The by-hand fork deploy in docs/keeper.md, run as a user runs it: `ape run deploy --network
ethereum:mainnet-fork:foundry` in its own process, forking the suite's upstream through the
environment variables that page names. It reads the fork's EVM version from ape-config.yaml
alone (nothing in this suite's code reaches that process): a recorded block from before Cancun
once made it stop with `EVM error NotActivated`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.fork

ROOT = Path(__file__).resolve().parents[2]


def test_the_readmes_fork_deploy_runs_in_a_new_process(upstream, tmp_path):
    fork = {"upstream_provider": "node"} | ({"block_number": upstream.block} if upstream.block else {})
    env = {
        **os.environ,
        "APE_NODE_MAINNET": json.dumps({"uri": upstream.url}),
        "APE_FOUNDRY_FORK": json.dumps({"ethereum": {"mainnet": fork}}),
    }
    ape = Path(sys.executable).parent / "ape"
    run = subprocess.run(
        [str(ape), "run", "deploy", "--network", "ethereum:mainnet-fork:foundry"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-3000:]
    assert "NotActivated" not in out
    for name in ("vault", "liquidator", "insurance_fund", "taker"):
        assert any(line.split()[:1] == [name] and "0x" in line for line in out.splitlines()), out[-3000:]
