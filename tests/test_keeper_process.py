"""The keeper as its users run it: the CLI and the Silverback bot, each as its own process,
against a standalone Anvil that this module starts (with `--state`, so a restart keeps the chain).

- The CLI keeps ticking while Anvil is stopped and started again under it, and then kicks.
- SIGTERM stops it cleanly with its checkpoint saved; run again, it resumes from that
  checkpoint (it reads no old events again) and does not kick the same account a second time.
- The Silverback bot, on the same deployment, kicks what the next price drop puts under."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bots.keeper.deployments import DeploymentRecord
from bots.keeper.indexer import ApeChainView
from bots.keeper.store import update_from_event
from conftest import free_port
from scripts._deployment import ROOT, add_liquidity, deploy_local

ETH, USDC = 10**18, 10**6
BIN = Path(sys.executable).parent
ANVIL = ROOT / "node_modules" / ".bin" / "anvil"


class Node:
    """A standalone Anvil (chain id 1337, as Ape's local network expects) whose state survives
    a restart."""

    def __init__(self, folder: Path) -> None:
        self.port, self.state = free_port(), folder / "anvil-state.json"
        self.uri = f"http://127.0.0.1:{self.port}"
        self.network = f"ethereum:local:{self.uri}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [str(ANVIL), "--port", str(self.port), "--chain-id", "1337", "--state", str(self.state)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, 30, "Anvil to answer")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # Anvil writes its state on the way out
            self.process.wait(30)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False


class Process:
    """A keeper process whose output lines (JSON logs and anything else) are collected."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))

    def logs(self, message: str | None = None, prefix: str | None = None) -> list[dict]:
        """JSON log entries whose message is `message`, or starts with `prefix`."""
        out = []
        for line in list(self.lines):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            text = entry.get("message", "") if isinstance(entry, dict) else None
            if text is not None and (message is None or text == message) and text.startswith(prefix or ""):
                out.append(entry)
        return out

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(60)

    def output(self) -> str:
        return "\n".join(self.lines[-40:])


def wait_for(predicate, timeout: float, what: str, process: Process | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    detail = f"\n--- last output ---\n{process.output()}" if process else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{detail}")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    node = Node(tmp_path_factory.mktemp("anvil"))
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def deployment(node, networks, project, accounts, tmp_path_factory):
    """Gavel, a Uniswap V2 pool and three borrowers on the standalone Anvil; the record in a
    temporary deployments file. Borrowers of 14,000, 12,000 and 8,000 USDC against 10 WETH go
    under below $1,750, $1,500 and $1,000."""
    folder = tmp_path_factory.mktemp("keeper")
    with networks.parse_network_choice(node.network) as provider:
        chain = provider.chain_manager
        governor, guardian, lender = accounts[:3]
        start_block = chain.blocks.head.number + 1
        c = deploy_local(project, governor, guardian)
        add_liquidity(c["uniswap_router"], governor, c["weth"], c["usdc"], 1_000 * ETH, 2_000_000 * USDC)
        c["usdc"].mint(lender, 1_000_000 * USDC, sender=governor)
        c["usdc"].approve(c["vault"], 2**256 - 1, sender=lender)
        c["vault"].deposit(1_000_000 * USDC, lender, sender=lender)
        for who, debt in zip(accounts[5:8], (14_000, 12_000, 8_000), strict=True):
            c["weth"].mint(who, 10 * ETH, sender=governor)
            c["weth"].approve(c["vault"], 2**256 - 1, sender=who)
            c["vault"].supplyCollateral(c["weth"], 10 * ETH, who, sender=who)
            c["vault"].borrow(debt * USDC, who, who, sender=who)
        record = DeploymentRecord(
            network="ethereum:local:node",
            chain_id=chain.chain_id,
            start_block=start_block,
            addresses={name: contract.address for name, contract in c.items()},
        )
    path = folder / "deployments.json"
    record.write(path)
    return {"path": path, "record": record, "folder": folder}


def on_node(node, networks, action):
    with networks.parse_network_choice(node.network) as provider:
        return action(provider.chain_manager)


def keeper_env(deployment, database: str) -> dict[str, str]:
    return {
        "GAVEL_KEEPER_DEPLOYMENTS": str(deployment["path"]),
        "GAVEL_KEEPER_DATABASE": str(deployment["folder"] / database),
        "GAVEL_KEEPER_KICK_MODE": "always",
        "GAVEL_KEEPER_CONFIRMATIONS": "0",
        "GAVEL_KEEPER_POLL_SECONDS": "0.2",
    }


def set_eth_price(node, networks, project, accounts, deployment, dollars: int) -> int:
    """Move the (settable, local) ETH feed from an account the keeper does not sign with;
    returns the block of the update."""
    feed = deployment["record"].addresses["weth_feed"]

    def update(chain):
        tx = project.MockAggregator.at(feed).setAnswer(dollars * 10**8, sender=accounts[9])
        return tx.block_number

    return on_node(node, networks, update)


def kicks(node, networks, project, deployment) -> int:
    liquidator = deployment["record"].addresses["liquidator"]
    return on_node(node, networks, lambda chain: int(project.DutchAuctionLiquidator.at(liquidator).kicks()))


def indexed_events_after(node, networks, project, deployment, block: int, stop: int) -> int:
    """How many events the keeper's indexer applies from blocks block+1 to stop."""
    addresses = deployment["record"].addresses

    def count(chain):
        vault = project.Vault.at(addresses["vault"])
        liquidator = project.DutchAuctionLiquidator.at(addresses["liquidator"])
        logs = ApeChainView(chain, vault, liquidator).logs(block + 1, stop) if stop > block else []
        return sum(1 for entry in logs if update_from_event(entry.event_name, dict(entry.event_arguments)))

    return on_node(node, networks, count)


def checkpoint(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT value FROM meta WHERE key = 'block'").fetchone()[0])


def test_cli_survives_anvil_restarting_then_kicks_and_stops_cleanly(node, deployment, networks, project, accounts):
    env = keeper_env(deployment, "cli.sqlite")
    keeper = Process([str(BIN / "python"), "-m", "bots.keeper", "run", "--network", node.network], env)
    try:
        wait_for(lambda: any(t["accounts"] == 3 for t in keeper.logs("tick")), 90, "the first full tick", keeper)

        node.stop()
        wait_for(lambda: keeper.logs(prefix="tick failed"), 30, "the keeper to notice Anvil is gone", keeper)
        failed = len(keeper.logs("tick"))
        node.start()
        wait_for(lambda: len(keeper.logs("tick")) > failed, 60, "a tick after Anvil came back", keeper)

        before = kicks(node, networks, project, deployment)
        update_block = set_eth_price(node, networks, project, accounts, deployment, 1_700)
        wait_for(lambda: any(t["kicked"] for t in keeper.logs("tick")), 30, "the kick", keeper)
        assert kicks(node, networks, project, deployment) == before + 1
        kicked = [t for t in keeper.logs("tick") if t["kicked"]]
        assert kicked[0]["kicked"] == [accounts[5].address.lower()]
        assert kicked[0]["checkpoint"] - update_block <= 2  # seen within two blocks of the price update
        head = on_node(node, networks, lambda chain: chain.blocks.head.number)
        wait_for(lambda: keeper.logs("tick")[-1]["checkpoint"] == head, 30, "the keeper to go quiet", keeper)
        head = on_node(node, networks, lambda chain: chain.blocks.head.number)  # a take may have followed
        wait_for(lambda: keeper.logs("tick")[-1]["checkpoint"] == head, 30, "the keeper to go quiet", keeper)
    finally:
        code = keeper.stop()
    assert code == 0 and keeper.logs("stopped"), keeper.output()
    key = accounts[0].private_key.lower().removeprefix("0x")  # the key it signed with
    assert key and not any(key in line.lower() for line in keeper.lines)  # never in a log
    saved = checkpoint(deployment["folder"] / "cli.sqlite")

    # Run again: it resumes from the checkpoint (no old events read again), and does not kick
    # the account it already kicked (the rest of that account is in auction, not in the vault).
    again = Process([str(BIN / "python"), "-m", "bots.keeper", "run", "--network", node.network, "--ticks", "2"], env)
    assert again.popen.wait(90) == 0, again.output()
    ticks = again.logs("tick")
    # Its first tick reads only what was mined after the checkpoint: the last tick's own
    # transactions (a claim, a take) may have been mined after that tick indexed.
    after = indexed_events_after(node, networks, project, deployment, saved, ticks[0]["checkpoint"])
    assert ticks[0]["checkpoint"] >= saved and ticks[0]["events"] == after
    assert all(not t["kicked"] for t in ticks)


def test_silverback_bot_kicks_on_the_next_drop(node, deployment, networks, project, accounts):
    env = keeper_env(deployment, "bot.sqlite")
    bot = Process([str(BIN / "silverback"), "run", "bots.gavel_bot:bot", "--network", node.network], env)
    try:
        wait_for(lambda: any("gavel" in line or "Startup" in line for line in bot.lines), 120, "the bot to start", bot)
        before = kicks(node, networks, project, deployment)
        set_eth_price(node, networks, project, accounts, deployment, 1_450)  # the 12,000 USDC loan goes under
        wait_for(lambda: kicks(node, networks, project, deployment) > before, 60, "the bot's kick", bot)
    finally:
        bot.stop()
