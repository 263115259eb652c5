"""The keeper at scale, measured: `make bench-keeper` (1,000 and 10,000 accounts; `--full` adds
100,000). On a fresh Anvil it builds the borrowers, lets Gavel's keeper sync them, then moves ETH
from $2,000 to $1,800, which puts 1% of them under, and in the same run finds those accounts
three ways at the crash block:

  gavel    the keeper's own tick: events -> in-memory book -> liquidation-price index
  naive    one `healthFactor` eth_call per account
  batched  `healthFactors` eth_calls of 1,000 accounts each

All three must find the same accounts. Then the keeper's kicks, sent in that tick, are mined in
blocks of mainnet's 30M gas, one every 12 s of chain time (each block is mined here after the
tick, with its timestamp set: the tick's sends all finish long before a 12-s block would close).

Figures are wall-clock times on this machine (they vary a little run to run); counts, blocks and
gas are the same every run."""

from __future__ import annotations

import math
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import click
from ape import accounts, networks, project
from ape.logging import logger

from bots.keeper.core import Contracts, Keeper, Policy
from bots.keeper.market import HEALTH_FACTORS, View
from bots.keeper.rpc import RpcError
from bots.keeper.store import Store
from bots.keeper.strategy import KickMode
from scripts._bench_market import CRASH, Market, deploy_market, grow
from scripts._bulk import BLOCK_GAS_LIMIT, Anvil, BulkChain, calldata

HEALTH_FACTOR = View("healthFactor(address)", ("address",), ("uint256",))
WAD = 10**18


class Row(NamedTuple):  # not a dataclass: `ape run` loads scripts outside sys.modules
    accounts: int
    cold_sync: float  # [s] first tick: every event since deployment, the book, the index
    events: int
    gavel_ms: float  # block -> candidates, in the keeper's tick
    screen_path: str
    naive_s: float
    batched_s: float
    candidates: int
    kicks: int
    last_kick_ms: float  # block -> last kick broadcast
    tick_requests: int  # HTTP requests the tick made (a JSON-RPC batch is one)
    tick_calls: int  # JSON-RPC calls in them
    blocks: int  # blocks until the last kick was mined
    bound: int  # 1 + ceil(total kick gas / block gas limit)
    kick_gas: int
    watch: int
    book_mb: float
    keeper_rss_mb: float
    anvil_rss_mb: float


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def count_ape_requests(provider: Any) -> list[int]:
    """Counts the requests Ape's provider sends (the keeper's contract calls go through it)."""
    counter = [0]
    inner = provider.web3.provider
    make_request = inner.make_request

    def counted(method: Any, params: Any) -> Any:
        counter[0] += 1
        return make_request(method, params)

    inner.make_request = counted
    return counter


def find_naive(node: Anvil, vault: str, borrowers: list[str], block: int) -> tuple[float, int]:
    tag, started, under = hex(block), time.perf_counter(), 0
    for account in borrowers:
        result = node.rpc("eth_call", [{"to": vault, "data": HEALTH_FACTOR.data(account)}, tag])
        under += HEALTH_FACTOR.decode(result)[0] < WAD
    return time.perf_counter() - started, under


def find_batched(node: Anvil, vault: str, borrowers: list[str], block: int) -> tuple[float, int]:
    tag, started, under = hex(block), time.perf_counter(), 0
    for first in range(0, len(borrowers), 1_000):
        data = HEALTH_FACTORS.data(borrowers[first : first + 1_000])
        result = node.rpc("eth_call", [{"to": vault, "data": data}, tag])
        under += sum(1 for hf in HEALTH_FACTORS.decode(result)[0] if hf < WAD)
    return time.perf_counter() - started, under


def new_keeper(market: Market, chain: Any, folder: Path) -> Keeper:
    c = market.contracts
    contracts = Contracts(
        c["vault"], c["liquidator"], c["oracle"], c["insurance_fund"], c["usdc"], c["taker"],
        c["uniswap_factory"], c["uniswap_router"],
    )  # fmt: skip
    store = Store(folder / "keeper.sqlite", chain.chain_id, market.address("vault"), market.start_block)
    policy = Policy(kick_mode=KickMode.ALWAYS, confirmations=0, kicks_per_tick=100_000, tick_seconds=600)
    return Keeper(contracts, accounts.test_accounts[4], chain, store, policy, project, native_asset=c["weth"].address)


def measure(market: Market, bulk: BulkChain, node: Anvil, chain: Any, ape_requests: list[int], say: Any) -> Row:
    n = len(market.borrowers)
    vault = market.address("vault")
    snapshot = node.rpc("evm_snapshot", [])
    with tempfile.TemporaryDirectory() as folder:
        keeper = new_keeper(market, chain, Path(folder))
        started = time.perf_counter()
        first = keeper.tick()
        cold = time.perf_counter() - started
        say(f"  {n:,} accounts: cold sync {cold:.1f} s ({first.sync.events:,} events); crashing ETH to ${CRASH[1]:,}")

        update = calldata("setAnswer(int256)", ["int256"], [CRASH[1] * 10**8])
        bulk.send_all([{"from": market.governor.address, "to": market.address("weth_feed"), "data": update,
                        "gas": hex(200_000)}])  # fmt: skip
        crash_block = bulk.mine(BLOCK_GAS_LIMIT)
        requests, calls, ape_before = keeper.rpc.requests, keeper.rpc.calls, ape_requests[0]
        report = keeper.tick()  # the block has arrived: the clock starts with the tick
        tick_requests = keeper.rpc.requests - requests + ape_requests[0] - ape_before
        tick_calls = keeper.rpc.calls - calls + ape_requests[0] - ape_before
        if report.errors:
            raise click.ClickException(f"the keeper's tick failed: {report.errors[:3]}")
        found_ms, sent_ms = report.timings["screen"], report.timings.get("kicks", 0)
        say(f"  {n:,} accounts: {len(report.unhealthy):,} unhealthy found in {found_ms:.0f} ms, "
            f"{len(report.kicked):,} kicks sent by {sent_ms:.0f} ms; the naive keeper next")  # fmt: skip

        naive_s, naive_found = find_naive(node, vault, market.borrowers, crash_block)
        batched_s, batched_found = find_batched(node, vault, market.borrowers, crash_block)
        if not naive_found == batched_found == len(report.unhealthy):
            raise click.ClickException(
                f"the three keepers disagree: gavel {len(report.unhealthy)}, naive {naive_found}, "
                f"batched {batched_found} unhealthy accounts"
            )

        hashes = [tx.hashes[-1] for tx in keeper.store.pending() if tx.kind == "kick"]
        blocks, gas, left = 0, 0, set(hashes)
        while left and blocks < 100:
            bulk.mine(BLOCK_GAS_LIMIT)
            blocks += 1
            receipts = node.rpc.batch([("eth_getTransactionReceipt", [h]) for h in sorted(left)])
            for h, receipt in zip(sorted(left), receipts, strict=True):
                if receipt is not None and not isinstance(receipt, RpcError):
                    gas += int(receipt["gasUsed"], 16)
                    left.discard(h)
        if left:
            raise click.ClickException(f"{len(left)} kicks were still not mined after 100 blocks")
        book_mb = keeper.book.nbytes / 2**20 if keeper.book else 0.0
        keeper.store.close()
    node.rpc("evm_revert", [snapshot])  # the next size starts from the same healthy market
    return Row(
        n, cold, first.sync.events, report.timings["screen"], report.screen_path, naive_s, batched_s,
        len(report.unhealthy), len(report.kicked), report.timings.get("kicks", 0.0), tick_requests, tick_calls,
        blocks, 1 + math.ceil(gas / BLOCK_GAS_LIMIT), gas, first.watch, book_mb, rss_mb(), node.rss_mb(),
    )  # fmt: skip


def table(rows: list[Row]) -> str:
    head = (
        "| accounts | cold sync | find the unhealthy: gavel | naive | batched view | gavel vs naive | gavel vs batched "
        "| unhealthy | kicks | last kick sent | requests (calls) in that tick | blocks to mine them (bound) "
        "| book | keeper RSS | Anvil RSS |"
    )
    lines = [head, "|" + " ---: |" * 15]
    for r in rows:
        lines.append(
            f"| {r.accounts:,} | {r.cold_sync:.1f} s | {r.gavel_ms:.1f} ms ({r.screen_path}) | {r.naive_s:.2f} s "
            f"| {r.batched_s * 1000:.0f} ms | {r.naive_s * 1000 / r.gavel_ms:,.0f}x "
            f"| {r.batched_s * 1000 / r.gavel_ms:,.1f}x "
            f"| {r.candidates:,} | {r.kicks:,} | {r.last_kick_ms:.0f} ms | {r.tick_requests} ({r.tick_calls:,}) "
            f"| {r.blocks} ({r.bound}) | {r.book_mb:.2f} MB | {r.keeper_rss_mb:.0f} MB | {r.anvil_rss_mb:.0f} MB |"
        )
    return "\n".join(lines)


def progress(n: int, say: Any) -> Any:
    started = time.perf_counter()
    return lambda done: say(f"  opened {done:,} of {n:,} borrowers ({time.perf_counter() - started:.0f} s)")


@click.command()
@click.option("--full", is_flag=True, help="Also 100,000 accounts (about half an hour).")
@click.option("--seed", default=1, show_default=True, help="Borrowers' amounts.")
def cli(full: bool, seed: int) -> None:
    """Gavel's keeper beside a naive and a batched-view keeper, at 1,000 and 10,000 accounts."""
    sizes = [1_000, 10_000] + ([100_000] if full else [])
    say = click.echo
    logger.set_level("WARNING")  # Ape logs every transaction: a line per step here instead
    say("Starting a fresh Anvil (no step tracing) and deploying Gavel...")
    node = Anvil()
    rows: list[Row] = []
    try:
        with networks.parse_network_choice(f"ethereum:local:{node.uri}") as provider:
            chain = provider.chain_manager
            market = deploy_market(project, accounts, chain)
            say(f"  deployed at block {chain.blocks.head.number}")
            bulk = BulkChain(node.rpc)
            bulk.manual_mining()
            ape_requests = count_ape_requests(provider)
            for n in sizes:
                grow(market, bulk, n, seed, progress(n, say))
                rows.append(measure(market, bulk, node, chain, ape_requests, say))
    finally:
        node.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    say("")
    say(table(rows))
    say(f"\n{os.cpu_count()} CPUs; peak keeper-process RSS {peak:.0f} MB. Times are this machine's wall clock.")
