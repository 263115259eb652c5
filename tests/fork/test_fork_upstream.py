"""The fork suite's upstream: the replay of recorded mainnet state answers as Anvil needs, and a
bad MAINNET_RPC_URL or MAINNET_FORK_BLOCK is one clear message naming the variable (never the
URL's key), before Ape or Anvil start. Pure Python and local sockets; no chain: these run with the
tests on Anvil, not in the fork run (tests/conftest.py's `pytest_ignore_collect`)."""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

import replay
from processes import free_port
from upstream import BLOCK_VAR, URL_VAR, UpstreamError, choose, redacted

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
ETH_USD_PROXY = "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419"


def rpc(url: str, method: str, *params):
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as reply:
        return json.loads(reply.read())


def test_the_replay_answers_from_the_recording():
    upstream = choose({})
    try:
        assert upstream.is_replay and upstream.block == replay.BLOCK
        assert rpc(upstream.url, "eth_chainId")["result"] == "0x1"
        assert int(rpc(upstream.url, "eth_blockNumber")["result"], 16) == 18_476_512
        block = rpc(upstream.url, "eth_getBlockByNumber", "latest", False)["result"]
        assert block["number"] == hex(18_476_512) and isinstance(block["transactions"][0], str)
        assert rpc(upstream.url, "eth_getBlockByNumber", "0x0", False)["result"]["hash"].startswith("0xd4e56740")
        code = rpc(upstream.url, "eth_getCode", ETH_USD_PROXY, "latest")["result"]
        assert len(code) > 1_000 and not code.endswith("00" * 32)  # cut to its original length
        slot = rpc(upstream.url, "eth_getStorageAt", ETH_USD_PROXY, "0x2", "latest")["result"]
        assert int(slot, 16) == 0xE62B71CF983019BFF55BC83B48601CE8419650CC0006 and len(slot) == 66
        fresh = "0x" + "12" * 20
        assert rpc(upstream.url, "eth_getAccountInfo", fresh, "latest")["result"] == {
            "balance": "0x0",
            "nonce": "0x0",
            "code": "0x",
        }
        assert upstream.replay.state.misses[f"account {fresh}"] == 1  # unrecorded reads are counted
        error = rpc(upstream.url, "eth_sendTransaction", {})["error"]
        assert error["code"] == -32601 and "eth_sendTransaction" in error["message"]
    finally:
        upstream.stop()


def test_an_unreachable_upstream_names_the_variable_and_hides_the_key():
    url = f"http://127.0.0.1:{free_port()}/v3/SECRETKEY"
    with pytest.raises(UpstreamError) as info:
        choose({URL_VAR: url})
    message = str(info.value)
    assert message.startswith(f"{URL_VAR} (http://127.0.0.1:") and "cannot be reached" in message
    assert "SECRETKEY" not in message
    assert redacted("https://eth.example.org/v2/abc?key=1") == "https://eth.example.org/…"


def test_a_wrong_chain_upstream_is_refused(monkeypatch):
    monkeypatch.setattr(replay, "CHAIN_ID", 5)  # a node that answers as Goerli
    server = replay.ReplayServer().start()
    try:
        with pytest.raises(
            UpstreamError, match=rf"{URL_VAR} \(http://127.0.0.1:\d+\) is chain 5, not Ethereum mainnet"
        ):
            choose({URL_VAR: server.url})
    finally:
        server.stop()


@pytest.mark.parametrize(
    "env, message",
    [
        ({BLOCK_VAR: "latest"}, f"{BLOCK_VAR} must be a block number, got 'latest'"),
        ({BLOCK_VAR: "-3"}, f"{BLOCK_VAR} must be a positive block number"),
        ({BLOCK_VAR: "18000000"}, f"without {URL_VAR} only the recorded block 18476512"),
        ({URL_VAR: "ws://127.0.0.1:1"}, f"{URL_VAR} must be an http"),
    ],
)
def test_bad_settings_are_named(env, message):
    with pytest.raises(UpstreamError, match=message.replace("(", r"\(")):
        choose(env)


def test_the_suite_stops_with_one_line_for_a_bad_upstream():
    url = f"http://127.0.0.1:{free_port()}/SECRETKEY"
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ape"), "test", "tests/fork", "--network", "ethereum:mainnet-fork:foundry"],
        cwd=ROOT,
        env={**os.environ, URL_VAR: url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 2, output
    assert f"fork tests: {URL_VAR} (http://127.0.0.1:" in output and "cannot be reached" in output
    assert "Traceback" not in output and "SECRETKEY" not in output
