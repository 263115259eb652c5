"""The keeper as its users run it: the CLI and the Silverback bot, each as its own process,
against a standalone Anvil that this module starts (with `--state`, so a restart keeps the chain).

- The CLI keeps ticking while Anvil is stopped and started again under it, and then kicks.
- SIGTERM stops it cleanly with its checkpoint saved; run again, it resumes from that
  checkpoint (it reads no old events again) and does not kick the same account a second time.
- The Silverback bot, on the same deployment, kicks what the next price drop puts under."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from bots.keeper.deployments import DeploymentRecord
from bots.keeper.indexer import ApeChainView
from bots.keeper.store import update_from_event
from processes import PATIENCE, Node, Process, wait_for
from scripts._deployment import ROOT, add_liquidity, deploy_local

ETH, USDC = 10**18, 10**6
BIN = Path(sys.executable).parent


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
    path = folder / "deployments.json"
    record = deploy_with_borrowers(node, networks, project, accounts, path)
    return {"path": path, "record": record, "folder": folder}


def deploy_with_borrowers(node, networks, project, accounts, path: Path) -> DeploymentRecord:
    """Gavel, its pool, a lender and the three borrowers on the node; the record written to `path`."""
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
    record.write(path)
    return record


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
        "GAVEL_KEEPER_HEARTBEAT_SECONDS": "0",  # a heartbeat every tick: the tests follow the checkpoint
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


def test_cli_on_a_quiet_chain_logs_one_heartbeat_and_no_tick_lines(node, deployment, networks):
    """Blocks keep coming, with nothing in them for the keeper (no account under, nothing to
    send): it logs no line per tick, only its heartbeat (here at start, then not for an hour)."""
    env = {**keeper_env(deployment, "quiet.sqlite"), "GAVEL_KEEPER_HEARTBEAT_SECONDS": "3600"}
    database = deployment["folder"] / "quiet.sqlite"
    keeper = Process([str(BIN / "python"), "-m", "bots.keeper", "run", "--network", node.network], env)
    try:
        wait_for(lambda: keeper.logs("heartbeat"), "the first heartbeat", keeper)
        for _ in range(10):
            on_node(node, networks, lambda chain: chain.provider.make_request("evm_mine", []))
            head = on_node(node, networks, lambda chain: chain.blocks.head.number)
            wait_for(lambda h=head: checkpoint(database) >= h, f"the keeper to index block {head}", keeper)
    finally:
        code = keeper.stop()
    assert code == 0, keeper.output()
    assert keeper.logs("tick") == [] and len(keeper.logs("heartbeat")) == 1, keeper.output()
    said = [e["message"] for e in keeper.logs()]
    assert said == ["keeper started", "heartbeat", "stopping after the current tick", "stopped"], keeper.output()


def test_cli_survives_anvil_restarting_then_kicks_and_stops_cleanly(node, deployment, networks, project, accounts):
    env = keeper_env(deployment, "cli.sqlite")
    keeper = Process([str(BIN / "python"), "-m", "bots.keeper", "run", "--network", node.network], env)
    try:
        wait_for(lambda: any(t["accounts"] == 3 for t in keeper.logs("heartbeat")), "the first full tick", keeper)

        node.stop()
        wait_for(lambda: keeper.logs(prefix="tick failed"), "the keeper to notice Anvil is gone", keeper)
        failed = len(keeper.logs("heartbeat"))
        node.start()
        wait_for(lambda: len(keeper.logs("heartbeat")) > failed, "a tick after Anvil came back", keeper)

        before = kicks(node, networks, project, deployment)
        update_block = set_eth_price(node, networks, project, accounts, deployment, 1_700)
        wait_for(lambda: any(t.get("kicked") for t in keeper.logs("tick")), "the kick", keeper)
        # At least one: a partial kick leaves the account's health where it was, and with its gas
        # paid back a next kick may pay too (the close factor takes half the debt each time).
        assert kicks(node, networks, project, deployment) >= before + 1
        kicked = [t for t in keeper.logs("tick") if t.get("kicked")]
        assert kicked[0]["kicked"] == [accounts[5].address.lower()]
        assert kicked[0]["checkpoint"] - update_block <= 2  # seen within two blocks of the price update
        head = on_node(node, networks, lambda chain: chain.blocks.head.number)
        wait_for(lambda: keeper.logs("heartbeat")[-1]["checkpoint"] == head, "the keeper to go quiet", keeper)
        head = on_node(node, networks, lambda chain: chain.blocks.head.number)  # a take may have followed
        wait_for(lambda: keeper.logs("heartbeat")[-1]["checkpoint"] == head, "the keeper to go quiet", keeper)
    finally:
        code = keeper.stop()
    assert code == 0 and keeper.logs("stopped"), keeper.output()
    key = accounts[0].private_key.lower().removeprefix("0x")  # the key it signed with
    assert key and not any(key in line.lower() for line in keeper.lines)  # never in a log
    saved = checkpoint(deployment["folder"] / "cli.sqlite")

    # Run again: it resumes from the checkpoint (no old events read again), and does not kick
    # the account it already kicked (the rest of that account is in auction, not in the vault).
    again = Process([str(BIN / "python"), "-m", "bots.keeper", "run", "--network", node.network, "--ticks", "2"], env)
    assert again.popen.wait(PATIENCE) == 0, again.output()
    ticks = again.logs("heartbeat")
    # Its first tick reads only what was mined after the checkpoint: the last tick's own
    # transactions (a claim, a take) may have been mined after that tick indexed.
    after = indexed_events_after(node, networks, project, deployment, saved, ticks[0]["checkpoint"])
    assert ticks[0]["checkpoint"] >= saved and ticks[0]["events"] == after
    assert not [t for t in again.logs("tick") if t.get("kicked")]


def test_silverback_bot_kicks_on_the_next_drop(node, deployment, networks, project, accounts):
    env = keeper_env(deployment, "bot.sqlite")
    bot = Process([str(BIN / "silverback"), "run", "bots.gavel_bot:bot", "--network", node.network], env)
    try:
        # Only once it polls for blocks (on a dev chain Ape's poller gives up after 10 s without one).
        wait_for(lambda: any("transitioning to runtime" in line for line in bot.lines), "the bot to start", bot)
        before = kicks(node, networks, project, deployment)
        set_eth_price(node, networks, project, accounts, deployment, 1_450)  # the 12,000 USDC loan goes under
        wait_for(lambda: kicks(node, networks, project, deployment) > before, "the bot's kick", bot)
        wait_for(lambda: bot.logs("tick"), "the bot's line for its kick", bot)
    finally:
        bot.stop()
    # Silverback's own lines for each block it hands the bot (start, time, metrics) are not shown.
    noise = [line for line in bot.lines if " - Started" in line or "Metrics collected" in line]
    assert not noise, noise[:3]


def test_two_silverback_workers_on_redis_kick_and_take_once_each(
    node, deployment, networks, project, accounts, redis_server
):
    """Silverback's distributed mode: `silverback run` hands blocks to a Redis broker, two
    `silverback worker` processes take them. Both work blocks, both see every account, and every
    kick and take is sent once, at a nonce never used twice."""
    addresses = deployment["record"].addresses
    set_eth_price(node, networks, project, accounts, deployment, 2_000)
    new = [accounts[3], accounts[4]]

    def borrow(chain):
        weth, vault = project.MockERC20.at(addresses["weth"]), project.Vault.at(addresses["vault"])
        for who, debt in zip(new, (14_000, 13_800), strict=True):  # under below $1,750 and $1,725
            weth.mint(who, 10 * ETH, sender=accounts[0])
            weth.approve(vault, 2**256 - 1, sender=who)
            vault.supplyCollateral(weth, 10 * ETH, who, sender=who)
            vault.borrow(debt * USDC, who, who, sender=who)
        return chain.blocks.head.number

    start = on_node(node, networks, borrow)
    env = {
        **keeper_env(deployment, "workers.sqlite"),
        "SILVERBACK_BROKER_CLASS": "taskiq_redis:ListQueueBroker",
        # As docs/keeper.md: no read timeout on the workers' blocking wait for blocks (redis-py's
        # default is 5 s, and a loaded machine's runner may take longer to hand out the first).
        "SILVERBACK_BROKER_KWARGS": json.dumps({"url": f"{redis_server}/0", "socket_timeout": None}),
        "SILVERBACK_RESULT_BACKEND_CLASS": "taskiq_redis:RedisAsyncResultBackend",
        "SILVERBACK_RESULT_BACKEND_KWARGS": json.dumps({"redis_url": f"{redis_server}/0"}),
        "GAVEL_KEEPER_LEASE_URL": f"{redis_server}/1",
    }
    silverback = str(BIN / "silverback")
    workers = [
        Process([silverback, "worker", "bots.gavel_bot:bot", "--network", node.network, "-w", "1"], env)
        for _ in range(2)
    ]
    runner = None
    try:
        for worker in workers:
            wait_for(lambda w=worker: w.logs("worker ready"), "a worker to start", worker)
        runner = Process([silverback, "run", "bots.gavel_bot:bot", "--network", node.network], env)

        def mine_until(predicate, what):
            last = [0.0]

            def step():
                # A block a second at most: a loaded machine's workers fall behind a faster chain,
                # and a broker queue that only grows makes them time out on Redis.
                if time.monotonic() - last[0] >= 1:
                    on_node(node, networks, lambda chain: chain.provider.make_request("evm_mine", []))
                    last[0] = time.monotonic()
                return predicate()

            try:
                wait_for(step, what, runner)
            except AssertionError as err:
                raise AssertionError(
                    f"{err}\n" + "\n".join(f"--- worker {i} ---\n{w.output()}" for i, w in enumerate(workers))
                ) from None

        # Both workers take blocks from the broker, and each sees all five accounts.
        mine_until(lambda: all(any(e["accounts"] == 5 for e in w.logs("heartbeat")) for w in workers), "both")

        set_eth_price(node, networks, project, accounts, deployment, 1_700)  # both new loans go under
        kicked = lambda: sorted(a for w in workers for e in w.logs("tick") for a in e.get("kicked", []))  # noqa: E731
        mine_until(lambda: {a.address.lower() for a in new} <= set(kicked()), "the two kicks")

        def later(chain):
            # A minute on: one step down the default curve. Not more: the pool (at $2,000) already
            # pays for takes at the kick's price, so one may be in flight, and a jump past the cusp
            # (3% under the oracle, five steps) would make it revert AuctionNeedsRedo when mined.
            chain.provider.make_request("evm_increaseTime", [60])

        on_node(node, networks, later)
        set_eth_price(node, networks, project, accounts, deployment, 1_700)
        taken = lambda: [i for w in workers for e in w.logs("tick") for i in e.get("taken", [])]  # noqa: E731
        mine_until(lambda: len(taken()) >= 2, "the takes")
    finally:
        if runner is not None:
            runner.stop()
        for worker in workers:
            worker.stop()

    # Both new accounts kicked (a kick covers at most the close factor's share, so an account may
    # be kicked again in a later tick: that is a new decision, not a duplicate) and auctions taken.
    assert {a.address.lower() for a in new} <= set(kicked()) and taken()

    signer = accounts[0].address  # the keepers' (test account 0 on a local chain)

    def sent(chain):
        out = {}
        for number in range(start + 1, chain.blocks.head.number + 1):
            for tx in chain.provider.web3.eth.get_block(number, full_transactions=True)["transactions"]:
                if tx["from"] == signer:
                    receipt = chain.provider.web3.eth.get_transaction_receipt(tx["hash"])
                    out["0x" + bytes(tx["hash"]).hex()] = (tx["nonce"], receipt["status"])
        return out

    mined = on_node(node, networks, sent)

    def why(chain, tx_hash):  # what a reverted send was and what it reverted with
        tx = chain.provider.web3.eth.get_transaction(tx_hash)
        trace = chain.provider.make_request("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
        return f"{tx['to']} {bytes(tx['input'])[:4].hex()} block {tx['blockNumber']}: {str(trace.get('output'))[:74]}"

    reverted = [on_node(node, networks, lambda chain, h=h: why(chain, h)) for h, (_, s) in mined.items() if s != 1]
    assert mined and not reverted, reverted  # no send lost a race to a twin
    with sqlite3.connect(deployment["folder"] / "workers.sqlite") as db:
        rows = db.execute("SELECT nonce, hashes, status FROM outbox").fetchall()
    # One outbox for both workers: every transaction the signer got mined is in it under its own
    # nonce, and nothing it recorded was dropped (a nonce taken twice leaves one of the two out).
    recorded = {h: nonce for nonce, hashes, _ in rows for h in hashes.split(",")}
    assert all(recorded.get(h) == nonce for h, (nonce, _) in mined.items())
    assert not [r for r in rows if r[2] == "dropped"]


def test_status_shows_markets_oracles_riskiest_accounts_and_auctions(node, deployment, networks, project, accounts):
    """`python -m bots.keeper status`, as a user runs it, after the kicks above: tables that fit a
    terminal, and the same as JSON for scripts."""
    addresses = deployment["record"].addresses
    set_eth_price(node, networks, project, accounts, deployment, 2_000)
    who = accounts[9]

    def kick_one(chain):  # an auction that is surely live: nobody is running to take it
        weth, vault = project.MockERC20.at(addresses["weth"]), project.Vault.at(addresses["vault"])
        weth.mint(who, 10 * ETH, sender=accounts[0])
        weth.approve(vault, 2**256 - 1, sender=who)
        vault.supplyCollateral(weth, 10 * ETH, who, sender=who)
        vault.borrow(14_000 * USDC, who, who, sender=who)
        project.MockAggregator.at(addresses["weth_feed"]).setAnswer(1_700 * 10**8, sender=who)
        vault.liquidate(who, sender=who)

    on_node(node, networks, kick_one)
    env = keeper_env(deployment, "status.sqlite")
    argv = [str(BIN / "python"), "-m", "bots.keeper", "status", "--network", node.network, "--top", "3"]
    tables = subprocess.run(argv, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=PATIENCE)
    assert tables.returncode == 0, tables.stderr[-2000:]
    lines = tables.stdout.splitlines()
    assert max(len(line) for line in lines) <= 120 and "closest to liquidation" in tables.stdout
    raw = subprocess.run(argv + ["--json"], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True)
    assert raw.returncode == 0, raw.stderr[-2000:]
    (market,) = json.loads(raw.stdout)["markets"]

    def truth(chain):
        vault = project.Vault.at(addresses["vault"])
        liquidator = project.DutchAuctionLiquidator.at(addresses["liquidator"])
        borrowers = [a.address for a in accounts if int(vault.debtOf(a)) > 0]
        return {
            "health": sorted((int(vault.healthFactor(a)), a) for a in borrowers),
            "breaker": int(liquidator.breaker()),
            "kicks": int(liquidator.kicks()),
        }

    expected = on_node(node, networks, truth)
    assert market["vault"] == addresses["vault"] and market["breaker"] == "none"
    assert {(a["symbol"], a["role"], a["oracle"]) for a in market["assets"]} == {
        ("USDC", "debt", "ok"), ("WETH", "collateral", "ok"), ("WBTC", "collateral", "ok"),
    }  # fmt: skip
    assert market["accounts_total"] == len(expected["health"])
    assert [a["account"] for a in market["closest"]] == [a for _, a in expected["health"][:3]]
    assert all("WETH" in a["liquidation_prices"] for a in market["closest"])
    assert who.address in [a["account"] for a in market["auctions"]]
    assert all(a["collateral"] == "WETH" and Decimal(a["tab"]) > 0 for a in market["auctions"])
