"""Which mainnet the fork tests fork from: a real one (MAINNET_RPC_URL, optionally pinned with
MAINNET_FORK_BLOCK), or else the project's replay of recorded mainnet state. A bad upstream is one
clear message naming the variable, checked before Ape or Anvil start. The URL is never printed
whole: RPC URLs usually carry an API key."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from replay import BLOCK, STATE_DIR, ReplayServer

URL_VAR, BLOCK_VAR = "MAINNET_RPC_URL", "MAINNET_FORK_BLOCK"
MAINNET = 1
FORK_NETWORK = "ethereum:mainnet-fork:foundry"


def is_fork_run(config: Any) -> bool:
    """Whether pytest (its `config`) was asked for the mainnet fork (`--network ethereum:mainnet-fork:...`)."""
    return "mainnet-fork" in (config.getoption("network") or "")


class UpstreamError(Exception):
    """The upstream cannot be used; the message names the variable and says why."""


@dataclass
class Upstream:
    url: str
    block: int | None  # None: the upstream's latest block
    description: str  # for the run's header: which upstream, never the full URL
    replay: ReplayServer | None = None

    @property
    def is_replay(self) -> bool:
        return self.replay is not None

    def stop(self) -> None:
        if self.replay is not None:
            self.replay.stop()


def redacted(url: str) -> str:
    """scheme://host[:port] only: the path and query of an RPC URL often hold a key."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}{f':{parts.port}' if parts.port else ''}" + (
        "/…" if parts.path.strip("/") or parts.query else ""
    )


def chain_id_of(url: str, timeout: float = 10.0) -> int:
    """eth_chainId from `url`; UpstreamError naming MAINNET_RPC_URL if it does not answer."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise UpstreamError(f"{URL_VAR} must be an http(s) URL, got {redacted(url)!r}")
    request = urllib.request.Request(
        url,
        data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return int(json.loads(reply.read())["result"], 16)
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise UpstreamError(f"{URL_VAR} ({redacted(url)}) cannot be reached: {reason}") from None
    except (ValueError, KeyError, TypeError) as err:
        raise UpstreamError(
            f"{URL_VAR} ({redacted(url)}) did not answer eth_chainId as a JSON-RPC node ({err})"
        ) from None


def choose(env: Mapping[str, str]) -> Upstream:
    """The upstream the environment asks for (starting the replay server if none)."""
    block = _block(env.get(BLOCK_VAR))
    url = env.get(URL_VAR, "").strip()
    if url:
        chain_id = chain_id_of(url)
        if chain_id != MAINNET:
            raise UpstreamError(f"{URL_VAR} ({redacted(url)}) is chain {chain_id}, not Ethereum mainnet ({MAINNET})")
        return Upstream(url, block, f"{URL_VAR} ({redacted(url)}) at block {block or 'latest'}")
    if block not in (None, BLOCK):
        raise UpstreamError(f"{BLOCK_VAR}={block}: without {URL_VAR} only the recorded block {BLOCK} can be forked")
    server = ReplayServer().start()
    return Upstream(
        server.url,
        BLOCK,
        f"local replay of mainnet block {BLOCK} recorded in {STATE_DIR.relative_to(STATE_DIR.parents[2])} "
        f"(set {URL_VAR} to fork live mainnet)",
        replay=server,
    )


def _block(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        block = int(value.strip(), 0)
    except ValueError:
        raise UpstreamError(f"{BLOCK_VAR} must be a block number, got {value!r}") from None
    if block <= 0:
        raise UpstreamError(f"{BLOCK_VAR} must be a positive block number, got {block}")
    return block
