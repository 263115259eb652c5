"""The Vault runs its kick module (VaultLiquidation) by delegatecall, so the module's storage
must be exactly the start of the Vault's: same variables, same slots, same offsets, same types.
Both get it by inheriting VaultState first; this asks the real compiler for both layouts and
compares them, so a variable added anywhere else (or a base reordered) fails here, not on-chain."""

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def storage_layouts(*paths: str) -> dict[str, list[tuple]]:
    """{contract name: [(variable, slot, offset, type)]} for contracts/<path>.sol, from solc."""
    request = {
        "language": "Solidity",
        "sources": {
            f"contracts/{path}.sol": {"content": (ROOT / "contracts" / f"{path}.sol").read_text()} for path in paths
        },
        "settings": {
            "remappings": [f"@openzeppelin/contracts={ROOT / 'node_modules/@openzeppelin/contracts'}"],
            "outputSelection": {"*": {"*": ["storageLayout"]}},
        },
    }
    solc = ROOT / "tools" / "solc.js"
    done = subprocess.run(
        ["node", str(solc), "--standard-json", "--base-path", str(ROOT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    output = json.loads(done.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    assert not errors, "\n".join(errors)
    layouts = {}
    for path in paths:
        name = path.split("/")[-1]
        layout = output["contracts"][f"contracts/{path}.sol"][name]["storageLayout"]
        types = layout["types"] or {}
        layouts[name] = [
            (v["label"], v["slot"], v["offset"], types.get(v["type"], {}).get("label", v["type"]))
            for v in layout["storage"]
        ]
    return layouts


@pytest.mark.unit
def test_the_kick_module_shares_the_vaults_storage_exactly():
    layouts = storage_layouts("Vault", "VaultLiquidation", "base/VaultState")
    state, module, vault = layouts["VaultState"], layouts["VaultLiquidation"], layouts["Vault"]
    assert len(state) > 10, "VaultState's layout read failed"
    # The module has VaultState's storage and nothing of its own; the Vault starts with it, and
    # its other bases (ERC-20, AccessControl) only follow.
    assert module == state
    assert vault[: len(state)] == state
    assert {label for label, *_ in vault[len(state) :]} == {
        "_balances",
        "_allowances",
        "_totalSupply",
        "_name",
        "_symbol",
        "_roles",
    }
