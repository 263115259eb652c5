"""Morpho Blue 1.0.0 from its npm package, for running beside Gavel (`make gas`, `make
bench-crash`): compiled by tools/compile_morpho.js with the compiler its sources pin, with its own
oracle and rate-model mocks."""

from __future__ import annotations

import json
import subprocess

from ape.contracts import ContractContainer
from ethpm_types import ContractType

from scripts._deployment import ROOT

MORPHO_BUILD = ROOT / ".build" / "morpho" / "morpho.json"


def morpho_contracts() -> dict[str, ContractContainer]:
    if not MORPHO_BUILD.is_file():  # the make targets build it first; `ape run` alone may not have
        subprocess.run(["node", str(ROOT / "tools" / "compile_morpho.js"), str(MORPHO_BUILD)], check=True)
    built = json.loads(MORPHO_BUILD.read_text())
    return {
        name: ContractContainer(
            ContractType.model_validate(
                {
                    "contractName": name,
                    "abi": built[name]["abi"],
                    "deploymentBytecode": {"bytecode": built[name]["bytecode"]},
                }
            )
        )
        for name in ("Morpho", "OracleMock", "IrmMock")
    }


def market_id(market: tuple) -> bytes:
    """Morpho's market id: keccak256 of the ABI-encoded MarketParams."""
    from eth_abi import encode
    from eth_utils import keccak

    return keccak(encode(["address", "address", "address", "address", "uint256"], list(market)))
