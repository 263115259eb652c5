"""The keeper's own log fetching and decoding (bots/keeper/eventlogs.py) against Anvil: it decodes
exactly what Ape decodes, and a cold sync through a provider that refuses large answers narrows
its ranges and still mirrors every account, as hosted RPCs require."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bots.keeper.eventlogs import LogRangeRefused
from bots.keeper.indexer import INDEXED_AUCTION_EVENTS, INDEXED_EVENTS, ApeChainView, Indexer
from bots.keeper.rpc import HttpJsonRpc, RpcError
from bots.keeper.store import Store
from helpers import kick, open_position

USDC = 10**6
ETH = 10**18


class RefusingProxy:
    """A JSON-RPC server in front of Anvil that answers `eth_getLogs` with a provider's error
    when the answer would hold more than `limit` logs (as Infura and geth word it), or fails every
    `eth_getLogs` with `fail_with` when set. It counts the `eth_getLogs` requests it forwards."""

    def __init__(self, upstream: str, limit: int, fail_with: str | None = None) -> None:
        self.upstream, self.limit, self.fail_with = upstream, limit, fail_with
        self.get_logs = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answer = requests.post(proxy.upstream, json=body, timeout=30).json()
                if isinstance(body, dict) and body.get("method") == "eth_getLogs":
                    proxy.get_logs += 1
                    if proxy.fail_with is not None:
                        error = {"code": -32000, "message": proxy.fail_with}
                        answer = {"jsonrpc": "2.0", "id": body["id"], "error": error}
                    elif len(answer.get("result", [])) > proxy.limit:
                        message = f"query returned more than {proxy.limit} results"
                        answer = {"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32005, "message": message}}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(chain):
    servers: list[RefusingProxy] = []

    def start(limit: int, fail_with: str | None = None) -> RefusingProxy:
        servers.append(RefusingProxy(chain.provider.http_uri, limit, fail_with))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def positions_on_chain(vault, accounts, tokens):
    out = {}
    for a in accounts:
        held = {t.address.lower(): vault.collateralOf(a, t) for t in tokens if vault.collateralOf(a, t) > 0}
        if held or vault.scaledDebtOf(a):
            out[a.address.lower()] = (held, vault.scaledDebtOf(a))
    return out


def busy_market(vault, liquidator, weth, eth_feed, governor, accounts, keeper):
    """Five positions (one tx per block on Anvil), one of them kicked (three events in one block)."""
    for account in accounts:
        weth.mint(account, 10 * ETH + 1, sender=governor)
        weth.approve(vault, 2**256 - 1, sender=account)
        open_position(vault, account, weth, 10 * ETH, 10_000 * USDC)
    open_position(vault, accounts[0], weth, 0 + 1, 3_900 * USDC)  # 13,900 against 10 WETH
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    kick(vault, liquidator, accounts[0], keeper)


def test_decodes_what_ape_decodes(chain, vault, liquidator, weth, eth_feed, governor, accounts, keeper):
    start = chain.blocks.head.number + 1
    busy_market(vault, liquidator, weth, eth_feed, governor, list(accounts[5:10]), keeper)
    stop = chain.blocks.head.number
    view = ApeChainView(chain, vault, liquidator)
    ours = [(e.event_name, e.block_number, e.log_index, e.event_arguments) for e in view.logs(start, stop)]

    theirs = []
    for contract, names in ((vault, INDEXED_EVENTS), (liquidator, INDEXED_AUCTION_EVENTS)):
        for name in names:
            for entry in getattr(contract, name).range(start, stop + 1):
                args = {k: (v.lower() if isinstance(v, str) else int(v)) for k, v in entry.event_arguments.items()}
                theirs.append((name, entry.block_number, entry.log_index, args))
    theirs.sort(key=lambda e: (e[1], e[2]))
    assert len(ours) >= 5 * 2 + 3
    assert ours == theirs
    assert view.fetcher.requests == 1  # every event of both contracts in one eth_getLogs


def test_cold_sync_narrows_ranges_a_provider_refuses(
    tmp_path, chain, vault, liquidator, weth, usdc, eth_feed, governor, accounts, keeper, proxy
):
    start = chain.blocks.head.number + 1
    borrowers = list(accounts[5:10])
    busy_market(vault, liquidator, weth, eth_feed, governor, borrowers, keeper)
    server = proxy(limit=3)  # the kick's block holds exactly three events
    view = ApeChainView(chain, vault, liquidator, request=HttpJsonRpc(server.url))
    store = Store(tmp_path / "k.sqlite", chain.chain_id, vault.address, start)

    result = Indexer(store, view, confirmations=0).sync()

    assert view.fetcher.refusals > 0  # the first, whole-range request was refused
    assert result.events == 5 * 2 + 2 + 3  # five supplies and borrows, the top-up, the kick's three
    mirrored = {a: p for a, p in store.positions().items() if a in {b.address.lower() for b in borrowers}}
    assert mirrored == positions_on_chain(vault, borrowers, [weth])
    assert len(store.live_auctions()) == 1


def test_a_block_too_big_to_narrow_is_a_clear_error(
    chain, vault, liquidator, weth, eth_feed, governor, accounts, keeper, proxy
):
    start = chain.blocks.head.number + 1
    busy_market(vault, liquidator, weth, eth_feed, governor, list(accounts[5:7]), keeper)
    server = proxy(limit=2)  # the kick's block alone has three
    view = ApeChainView(chain, vault, liquidator, request=HttpJsonRpc(server.url))
    with pytest.raises(LogRangeRefused, match=r"refused the logs of block \d+ alone"):
        view.logs(start, chain.blocks.head.number)


def test_other_failures_are_not_narrowed(chain, vault, liquidator, proxy):
    server = proxy(limit=1_000, fail_with="internal error")
    view = ApeChainView(chain, vault, liquidator, request=HttpJsonRpc(server.url))
    head = chain.blocks.head.number
    with pytest.raises(RpcError, match="internal error"):
        view.logs(max(0, head - 100), head)
    assert server.get_logs == 1  # retried by the keeper's loop later, not split into 100 requests
