"""The fork suite's set-up: choose the upstream (tests/fork/upstream.py) before Ape connects,
point Ape's fork provider at it, and say in the run's header and summary which one was used.

Fixtures here deploy Gavel on the fork against mainnet's real USDC, WETH, Chainlink feeds and
Uniswap V2 (markets/ethereum-mainnet.toml), and put the fork back after each test."""

from __future__ import annotations

import os

import pytest

from mainnet import ETH, ROUTER02, USDC, USDC_ADDRESS, WETH_ADDRESS
from upstream import FORK_NETWORK, Upstream, UpstreamError, choose, is_fork_run

_chosen: list[Upstream] = []


def pytest_configure(config):
    if not is_fork_run(config):
        return
    try:
        upstream = choose(os.environ)
    except UpstreamError as err:
        pytest.exit(f"fork tests: {err}", returncode=2)
    from ape import config as ape_config
    from ape_foundry.provider import FoundryForkConfig

    ape_config.get_config("node").ethereum.mainnet["uri"] = upstream.url
    # Gavel is built for Cancun (its lock is in transient storage). The recorded block predates
    # Cancun, and Anvil would run a fork by its block's rules: run it by Cancun's instead, which
    # reads the same recorded state (only opcodes are added).
    fork = FoundryForkConfig(upstream_provider="node", block_number=upstream.block, evm_version="cancun")
    ape_config.get_config("foundry").fork = {"ethereum": {"mainnet": fork}}
    _chosen.append(upstream)


def pytest_report_header(config):
    return [f"fork upstream: {_chosen[0].description}"] if _chosen else []


def pytest_terminal_summary(terminalreporter):
    if not _chosen:
        return
    upstream = _chosen[0]
    terminalreporter.write_line(f"fork tests ran against: {upstream.description}")
    if upstream.replay is not None:
        misses = upstream.replay.state.misses
        terminalreporter.write_line(
            f"  unrecorded reads answered as empty/zero: {len(misses)} distinct ({sum(misses.values())} reads)"
        )


def pytest_unconfigure(config):
    while _chosen:
        _chosen.pop().stop()


@pytest.fixture(scope="session")
def upstream() -> Upstream:
    if not _chosen:
        pytest.fail(f"the fork tests need --network {FORK_NETWORK} (`make fork-test` runs them)")
    return _chosen[0]


# ---------------------------------------------------------------------------- Gavel on the fork


# The role fixtures (governor, guardian, lender, borrower, ...) are tests/conftest.py's.


@pytest.fixture(scope="session")
def usdc(project, upstream):
    return project.MockERC20.at(USDC_ADDRESS)  # mainnet's USDC; any ERC-20 ABI serves


@pytest.fixture(scope="session")
def weth(upstream):
    from ape.contracts import ContractContainer

    from scripts._deployment import npm_artifact

    return ContractContainer(npm_artifact("@uniswap/v2-periphery", "WETH9")).at(WETH_ADDRESS)


@pytest.fixture(scope="session")
def router(upstream):
    from ape.contracts import ContractContainer

    from scripts._deployment import npm_artifact

    return ContractContainer(npm_artifact("@uniswap/v2-periphery", "UniswapV2Router02")).at(ROUTER02)


def buy_usdc(router, who, eth: int) -> None:
    """USDC the only way a fresh address can get it on the fork: swapping ETH on the real pair."""
    router.swapExactETHForTokens(0, [WETH_ADDRESS, USDC_ADDRESS], who, 2**255, value=eth, sender=who)


@pytest.fixture(scope="session")
def gavel(project, governor, guardian, lender, usdc, router):
    """Gavel deployed from markets/ethereum-mainnet.toml (real USDC, WETH, Chainlink feeds and
    Uniswap V2), with 200,000 USDC of lenders' money and 1,000 USDC in the InsuranceFund."""
    from scripts._markets import MARKETS_DIR, deploy_markets, load_markets

    c = deploy_markets(project, governor, guardian, load_markets(MARKETS_DIR / "ethereum-mainnet.toml"))
    buy_usdc(router, lender, 150 * ETH)
    usdc.approve(c["vault"], 2**256 - 1, sender=lender)
    c["vault"].deposit(200_000 * USDC, lender, sender=lender)
    buy_usdc(router, governor, 1 * ETH)
    usdc.approve(c["insurance_fund"], 2**256 - 1, sender=governor)
    c["insurance_fund"].fund(1_000 * USDC, sender=governor)
    return c


@pytest.fixture(autouse=True)
def fork_isolated(request):
    """Each fork test starts from the same deployment and leaves nothing behind. Tests marked
    `unit` (test_fork_upstream.py: pure Python, run on Anvil's network, never on the fork) skip it."""
    if request.node.get_closest_marker("unit"):
        yield
        return
    chain = request.getfixturevalue("chain")
    request.getfixturevalue("gavel")
    snapshot = chain.snapshot()
    yield
    chain.restore(snapshot)
