"""A small JSON-RPC server answering as an Ethereum mainnet archive node would at one block, from
state recorded there (tests/fork/mainnet-state/<block>/, see its README). Anvil forks from it when
no real upstream is given, so the fork tests run on real mainnet code and storage offline.

It answers exactly what Anvil asks a fork upstream for. Accounts and storage slots that were never
recorded are answered as empty and zero (right for fresh addresses; a test that needs another slot
must set it on the fork itself), and each such read is counted in `misses` so a surprising zero
can be traced. Any other method gets a JSON-RPC error naming it.

    python tests/fork/replay.py [--port 8549]   # serve by hand, e.g. to point Anvil at it
"""

from __future__ import annotations

import argparse
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

STATE_DIR = Path(__file__).resolve().parent / "mainnet-state"
BLOCK = 18_476_512
CHAIN_ID = 1


class UnknownMethod(Exception):
    pass


class RecordedState:
    """The recorded block: header, accounts (balance, nonce, code) and storage slots."""

    def __init__(self, folder: Path) -> None:
        cache = json.loads((folder / "foundry-rpc-cache.json").read_text())
        self.block: dict[str, Any] = json.loads((folder / "block.json").read_text())["result"]
        self.genesis: dict[str, Any] = json.loads((folder / "genesis-block.json").read_text())["result"]
        self.number = int(self.block["number"], 16)
        self.accounts: dict[str, dict[str, Any]] = {}
        for address, account in cache["accounts"].items():
            analyzed = account["code"]["LegacyAnalyzed"]
            code = analyzed["bytecode"][: 2 + 2 * int(analyzed["original_len"])]  # cut the analysis padding
            self.accounts[address.lower()] = {
                "balance": hex(int(account["balance"], 16)),
                "nonce": hex(int(account["nonce"])),
                "code": code if len(code) > 2 else "0x",
            }
        self.storage = {
            address.lower(): {int(slot, 16): int(value, 16) for slot, value in slots.items()}
            for address, slots in cache["storage"].items()
        }
        self.misses: Counter[str] = Counter()

    def account(self, address: str) -> dict[str, Any]:
        found = self.accounts.get(address.lower())
        if found is None:
            self.misses[f"account {address.lower()}"] += 1
            return {"balance": "0x0", "nonce": "0x0", "code": "0x"}
        return found

    def slot(self, address: str, slot: str) -> str:
        slots = self.storage.get(address.lower(), {})
        key = int(slot, 16)
        if key not in slots:
            self.misses[f"slot {address.lower()} {hex(key)}"] += 1
        return "0x" + slots.get(key, 0).to_bytes(32, "big").hex()

    def block_by_number(self, tag: str, full: bool) -> dict[str, Any] | None:
        number = self.number if tag in ("latest", "finalized", "safe", "pending") else int(tag, 16)
        if number == 0:
            return self.genesis
        if number != self.number:
            return None  # only one block was recorded
        if full:
            return self.block
        return {**self.block, "transactions": [tx["hash"] for tx in self.block["transactions"]]}

    def answer(self, method: str, params: list[Any]) -> Any:
        if method == "web3_clientVersion":
            return "gavel-replay/1.0"
        if method == "eth_chainId":
            return hex(CHAIN_ID)
        if method == "net_version":
            return str(CHAIN_ID)
        if method == "eth_blockNumber":
            return hex(self.number)
        if method in ("eth_gasPrice", "eth_maxPriorityFeePerGas"):
            return self.block["baseFeePerGas"] if method == "eth_gasPrice" else "0x0"
        if method == "eth_getBlockByNumber":
            return self.block_by_number(params[0], bool(params[1]) if len(params) > 1 else False)
        if method == "eth_getBlockByHash":
            for block in (self.block, self.genesis):
                if block["hash"] == params[0].lower():
                    return self.block_by_number(block["number"], bool(params[1]) if len(params) > 1 else False)
            return None
        if method == "eth_getAccountInfo":
            return self.account(params[0])
        if method == "eth_getCode":
            return self.account(params[0])["code"]
        if method == "eth_getBalance":
            return self.account(params[0])["balance"]
        if method == "eth_getTransactionCount":
            return self.account(params[0])["nonce"]
        if method == "eth_getStorageAt":
            return self.slot(params[0], params[1])
        if method == "eth_feeHistory":
            count = int(params[0], 16) if isinstance(params[0], str) else int(params[0])
            return {
                "oldestBlock": hex(self.number - count + 1),
                "baseFeePerGas": [self.block["baseFeePerGas"]] * (count + 1),
                "gasUsedRatio": [0.5] * count,
                "reward": [["0x0"] * len(params[2] if len(params) > 2 else [])] * count,
            }
        if method in ("eth_getTransactionReceipt", "eth_getTransactionByHash"):
            return None  # only transactions made on the fork exist, and the fork answers those itself
        raise UnknownMethod(method)


def _handle(state: RecordedState, request: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
    try:
        reply["result"] = state.answer(request["method"], request.get("params") or [])
    except UnknownMethod as err:
        reply["error"] = {"code": -32601, "message": f"method {err} is not served by the mainnet-state replay"}
    except (KeyError, IndexError, TypeError, ValueError) as err:
        reply["error"] = {"code": -32602, "message": f"bad params for {request.get('method')}: {err}"}
    return reply


class ReplayServer:
    """The server on 127.0.0.1 in a background thread; `url` is its address."""

    def __init__(self, folder: Path = STATE_DIR / str(BLOCK), port: int = 0) -> None:
        self.state = RecordedState(folder)
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                reply = [_handle(state, r) for r in body] if isinstance(body, list) else _handle(state, body)
                data = json.dumps(reply).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on this request (Anvil does at shutdown)

            def log_message(self, *_: object) -> None:
                pass  # one line per request would drown the test output

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> ReplayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8549)
    server = ReplayServer(port=parser.parse_args().port)
    print(f"serving mainnet block {server.state.number} at {server.url}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
