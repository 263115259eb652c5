"""Deployment records: where a Gavel deployment is and from which block to index it. Written by
`ape run deploy`, read by the keeper and the demo."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from bots.keeper.errors import DeploymentNotFound, KeeperError

DEPLOYMENTS_DIR = Path(__file__).resolve().parents[2] / "deployments"


def has_test_accounts(network_name: str) -> bool:
    """Local chains and forks (`mainnet-fork`) fund Ape's test accounts; public networks do not.
    `network_name` is the network part of a choice: `local` in `ethereum:local:foundry`."""
    return network_name == "local" or network_name.endswith("-fork")


class DeploymentExists(KeeperError):
    """A record of a live deployment would be overwritten."""


@dataclass
class DeploymentRecord:
    """What the keeper and the demo read: where everything is, and from which block to index."""

    network: str
    chain_id: int
    start_block: int
    addresses: dict[str, str]

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)  # atomic: a reader never sees half a file

    @classmethod
    def read(cls, path: Path) -> DeploymentRecord:
        if not path.is_file():
            raise DeploymentNotFound(f"no deployments file at {path}: run `ape run deploy --network ...` first")
        data = json.loads(path.read_text())
        missing = {"network", "chain_id", "start_block", "addresses"} - data.keys()
        if missing:
            raise DeploymentNotFound(f"{path} lacks {', '.join(sorted(missing))}: redeploy or fix the file")
        return cls(**data)


def deployments_path(network_choice: str) -> Path:
    """deployments/<ecosystem>-<network>.json, e.g. deployments/ethereum-local.json."""
    ecosystem, network = network_choice.split(":")[:2]
    return DEPLOYMENTS_DIR / f"{ecosystem}-{network}.json"


def check_can_write(path: Path, chain_id: int, code_at: Callable[[str], bytes], force: bool) -> str | None:
    """Refuse to overwrite a record of contracts that still exist on this chain, unless forced.
    Returns a note when an old record is replaced (a restarted local chain, say)."""
    if not path.is_file():
        return None
    try:
        old = DeploymentRecord.read(path)
    except (DeploymentNotFound, json.JSONDecodeError, TypeError) as err:
        if force:
            return f"replacing unreadable {path} ({err})"
        raise DeploymentExists(f"{path} exists but cannot be read ({err}); pass --force to replace it") from err
    vault = old.addresses.get("vault")
    live = old.chain_id == chain_id and vault is not None and len(code_at(vault)) > 0
    if live and not force:
        raise DeploymentExists(
            f"{path} records a deployment whose Vault {vault} is live on chain {chain_id}; "
            "pass --force to deploy again and replace it"
        )
    return f"replacing {path}: its contracts are {'live (forced)' if live else 'not on this chain'}"
