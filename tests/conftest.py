"""Fixtures every chain test shares: the whole protocol deployed once per session on Anvil, the
test chain's clock, each test's isolation, and which tests a run collects.

Each chain test starts from the state these fixtures build (`isolated` snapshots the chain around
it). The parameters they deploy with, and the helpers tests import, are in tests/helpers.py. A
folder's own fixtures are beside its tests: tests/keeper/conftest.py (a Keeper on this deployment,
a Redis server), tests/fork/conftest.py (Gavel on the mainnet fork).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from helpers import (
    BTC_PRICE,
    BUF,
    CHIP,
    CLOSE_FACTOR,
    CUSP,
    DEEP_HEALTH,
    ETH_PRICE,
    MIN_DEBT,
    NO_INTEREST,
    PENALTY_FUND_SHARE,
    SMALL_DEBT,
    TAIL,
    TAU,
    TIP,
    USD_PRICE,
    WAD,
    collateral_params,
    strict_reverts,
)
from scripts._deployment import add_liquidity, deploy_vault, npm_artifact
from upstream import FORK_NETWORK, is_fork_run

strict_reverts()  # every test's `ape.reverts(Contract.Error, **inputs)` checks what it names

SECONDS_PER_BLOCK = 1


@pytest.fixture(scope="session", autouse=True)
def deterministic_clock(chain):
    """The test chain's clock is driven by the tests, never by the wall clock: every block is
    dated exactly SECONDS_PER_BLOCK after the one before it (unless a test sets a timestamp with
    `at`), however long the machine takes between transactions. Views read at the latest block
    see its timestamp; a transaction sent next runs one second later, on every run alike."""
    chain.provider.make_request("anvil_setBlockTimestampInterval", [SECONDS_PER_BLOCK])


@pytest.fixture(scope="session")
def governor(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def guardian(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def lender(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def borrower(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def keeper(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def other(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def usdc(project, governor):
    return project.MockERC20.deploy("USD Coin", "USDC", 6, sender=governor)


@pytest.fixture(scope="session")
def weth(project, governor):
    return project.MockERC20.deploy("Wrapped Ether", "WETH", 18, sender=governor)


@pytest.fixture(scope="session")
def wbtc(project, governor):
    return project.MockERC20.deploy("Wrapped BTC", "WBTC", 8, sender=governor)


@pytest.fixture(scope="session")
def usdc_feed(project, governor):
    return project.MockAggregator.deploy(8, "USDC / USD", USD_PRICE, sender=governor)


@pytest.fixture(scope="session")
def eth_feed(project, governor):
    return project.MockAggregator.deploy(8, "ETH / USD", ETH_PRICE, sender=governor)


@pytest.fixture(scope="session")
def btc_feed(project, governor):
    return project.MockAggregator.deploy(8, "BTC / USD", BTC_PRICE, sender=governor)


@pytest.fixture(scope="session")
def oracle(project, governor, guardian, usdc, weth, wbtc, usdc_feed, eth_feed, btc_feed):
    oracle = project.OracleAdapter.deploy(governor, guardian, sender=governor)
    for asset, feed, heartbeat in ((usdc, usdc_feed, 86400), (weth, eth_feed, 3600), (wbtc, btc_feed, 3600)):
        oracle.setSources(asset, [feed], [heartbeat], 1, WAD // 50, sender=governor)
    return oracle


@pytest.fixture(scope="session")
def fund(project, governor, guardian, usdc):
    return project.InsuranceFund.deploy(usdc, governor, guardian, sender=governor)


@pytest.fixture(scope="session")
def linear_curve(project, governor):
    return project.LinearDecrease.deploy(TAU, sender=governor)


@pytest.fixture(scope="session")
def exp_curve(project, governor):
    return project.StairstepExponentialDecrease.deploy(60, 99 * WAD // 100, sender=governor)


@pytest.fixture(scope="session")
def vault(project, governor, guardian, usdc, weth, wbtc, oracle, fund):
    vault = deploy_vault(project, governor, usdc, oracle, fund, governor, guardian)
    # No interest in the base state, so most tests' figures are exact without timing; tests of
    # interest switch it on with `charge_interest` inside the test body.
    vault.setRateModel(NO_INTEREST, sender=governor)
    vault.setReserveFactor(WAD // 10, sender=governor)
    vault.setLiquidationConfig((MIN_DEBT, SMALL_DEBT, DEEP_HEALTH, CLOSE_FACTOR, PENALTY_FUND_SHARE), sender=governor)
    vault.setCollateralParams(weth, collateral_params(), sender=governor)
    vault.setCollateralParams(wbtc, collateral_params(max_ltv=70, threshold=75, penalty=8), sender=governor)
    return vault


@pytest.fixture(scope="session")
def liquidator(project, governor, guardian, vault, fund, weth, wbtc, linear_curve):
    liquidator = project.DutchAuctionLiquidator.deploy(vault, governor, guardian, sender=governor)
    vault.setLiquidator(liquidator, sender=governor)
    fund.setLiquidator(liquidator, sender=governor)
    fund.grantRole(fund.COVER_ROLE(), vault, sender=governor)  # shortfalls
    fund.grantRole(fund.PAYER_ROLE(), liquidator, sender=governor)  # keeper incentives
    for asset in (weth, wbtc):
        liquidator.setAuctionConfig(asset, (linear_curve, BUF, TAIL, CUSP), sender=governor)
    liquidator.setIncentive(TIP, CHIP, sender=governor)
    return liquidator


@pytest.fixture(scope="session")
def protocol(vault, liquidator, fund, oracle, usdc, weth, wbtc, lender, borrower, keeper, governor, uniswap, exp_curve):
    """Everything wired, a lender with 1M USDC deposited, a funded InsuranceFund, and tokens and
    approvals for the borrower and the keeper, and a Uniswap V2 market. Every chain test gets it
    (through `isolated`), and it asks for every session fixture that deploys, so the whole base
    state exists before any test changes anything."""
    usdc.mint(lender, 1_000_000 * 10**6, sender=governor)
    usdc.approve(vault, 2**256 - 1, sender=lender)
    vault.deposit(1_000_000 * 10**6, lender, sender=lender)
    usdc.mint(governor, 10_000 * 10**6, sender=governor)
    usdc.approve(fund, 2**256 - 1, sender=governor)
    fund.fund(10_000 * 10**6, sender=governor)
    for token, amount in ((weth, 100 * 10**18), (wbtc, 10 * 10**8)):
        token.mint(borrower, amount, sender=governor)
        token.approve(vault, 2**256 - 1, sender=borrower)
    usdc.approve(vault, 2**256 - 1, sender=borrower)
    usdc.mint(keeper, 1_000_000 * 10**6, sender=governor)
    usdc.approve(vault, 2**256 - 1, sender=keeper)  # a take's payment is pulled by the Vault
    return vault


@pytest.fixture
def next_base_fee(chain):
    """Sets the next block's base fee [wei]. Anvil keeps the fee it derives for later blocks across
    a test's revert, so after the test the chain is brought back to 1 gwei: a congested test must
    not leave the next one's keeper above its fee cap."""
    rpc = chain.provider.make_request
    yield lambda wei: rpc("anvil_setNextBlockBaseFeePerGas", [hex(wei)])
    rpc("anvil_setNextBlockBaseFeePerGas", [hex(10**9)])
    chain.mine()


@pytest.fixture(scope="session")
def uniswap(project, governor, usdc, weth):
    """Real Uniswap V2 (Factory, Router02, WETH9) from its npm build artifacts, with a USDC/WETH
    pool holding 1,000 WETH and 1,700,000 USDC (ETH at $1,700)."""
    from ape.contracts import ContractContainer

    factory = ContractContainer(npm_artifact("@uniswap/v2-core", "UniswapV2Factory")).deploy(governor, sender=governor)
    weth9 = ContractContainer(npm_artifact("@uniswap/v2-periphery", "WETH9")).deploy(sender=governor)
    router = ContractContainer(npm_artifact("@uniswap/v2-periphery", "UniswapV2Router02")).deploy(
        factory, weth9, sender=governor
    )
    add_liquidity(router, governor, weth, usdc, 1_000 * 10**18, 1_700_000 * 10**6)
    pair_type = npm_artifact("@uniswap/v2-core", "UniswapV2Pair")
    pair = ContractContainer(pair_type).at(factory.getPair(weth, usdc))
    return {"factory": factory, "router": router, "pair": pair, "weth9": weth9}


FORK_FOLDER = Path(__file__).resolve().parent / "fork"
# The fork suite's own checks (its upstream and replay server): pure Python, no chain. They run with
# the other tests on Anvil, not in the fork run.
FORK_FOLDER_NO_CHAIN = ("test_fork_upstream.py",)


def pytest_ignore_collect(collection_path, config):
    """tests/fork's fork tests run on a mainnet fork only (`make fork-test`, which `make test`
    includes), and only they run there: a run on another network takes only the folder's tests
    that need no chain (FORK_FOLDER_NO_CHAIN), the fork run all the others. The header says so."""
    if collection_path.parent.resolve() == FORK_FOLDER and collection_path.name.startswith("test_"):
        return (collection_path.name in FORK_FOLDER_NO_CHAIN) == is_fork_run(config) or None
    return None


def pytest_report_header(config):
    no_chain = ", ".join(FORK_FOLDER_NO_CHAIN)
    if not is_fork_run(config):
        return [f"tests/fork: only {no_chain} here; the fork tests run with --network {FORK_NETWORK} (make fork-test)"]
    return [f"tests/fork: {no_chain} left out (no chain: it runs with the tests on Anvil)"]


@pytest.fixture(autouse=True)
def gavel_logging():
    """Put the keeper's logger back after each test: a test that runs the CLI in-process installs
    a handler on pytest's captured stderr, which is closed once that test ends ("--- Logging
    error ---" in every later test that logs)."""
    logger = logging.getLogger("gavel")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


@pytest.fixture(autouse=True)
def isolated(request):
    """Run every chain test from the session's base state and put it back afterwards (one EVM
    snapshot before, a revert after), and check that base state first: no debt, no auctions,
    no interest, so a leak shows in the next test's name rather than as a wrong figure.
    Tests marked `unit` (pure Python, no chain) skip all of this, and so do those marked `fork`
    (tests/fork/conftest.py isolates them on the fork)."""
    if request.node.get_closest_marker("unit") or request.node.get_closest_marker("fork"):
        yield
        return
    request.getfixturevalue("protocol")
    vault, liquidator, chain = (request.getfixturevalue(name) for name in ("vault", "liquidator", "chain"))
    state = (vault.borrowIndex(), vault.totalScaledDebt(), liquidator.kicks(), tuple(vault.rateModel()))
    assert state == (WAD, 0, 0, NO_INTEREST), f"{request.node.name} starts from leaked state {state}"
    snapshot = chain.snapshot()
    yield
    chain.restore(snapshot)


@pytest.hookimpl(trylast=True)
def pytest_exception_interact(node, call, report):
    """A failing test shows its assertion and the project's own frames, short. (Ape keeps every
    frame under the project folder, with their locals; here that folder holds .venv, so it kept
    pytest's and pluggy's internals too: hundreds of lines per failure.)"""
    from _pytest._code.code import Traceback

    if call.excinfo is None or not report.failed:
        return
    own = [f for f in call.excinfo.traceback if not {".venv", "node_modules"} & set(Path(str(f.path)).parts)]
    if own:
        call.excinfo.traceback = Traceback(own)
        report.longrepr = call.excinfo.getrepr(style="short", showlocals=False, chain=False, tbfilter=False)
