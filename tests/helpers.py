"""What the tests share besides fixtures: the base deployment's parameters (tests/conftest.py
deploys with them), the moves most tests make (open a position, kick, move the clock), and the
checks of a revert by its error's name. Amounts follow the units table in docs/design.md: prices
and ratios are WAD (1e18 = 1.0), token amounts are in each token's own decimals.

Tests import these by name (`from helpers import WAD, kick`): tests/ is on the path (pyproject's
`pythonpath`), whichever folder a test is in. Nothing here is a fixture."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from ape.exceptions import ContractLogicError, CustomError
from ape.pytest.contextmanagers import RevertsContextManager

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

NO_INTEREST = (0, 0, 0, 80 * WAD // 100)
RATE_MODEL = (0, 4 * WAD // 100, 75 * WAD // 100, 80 * WAD // 100)  # 4% at the 80% kink, +75% above


def charge_interest(vault, governor) -> None:
    """Switch on the kinked rate model (RATE_MODEL). Called in test bodies, not from a fixture:
    Ape's snapshot handling may reorder function fixtures around its own isolation fixture."""
    vault.setRateModel(RATE_MODEL, sender=governor)


def collateral_params(max_ltv=75, threshold=80, penalty=10, supply_cap=10**30, lot_cap=10**15, live_cap=10**16):
    """CollateralParams with percentages for the ratios and raw amounts for the caps."""
    return (max_ltv * WAD // 100, threshold * WAD // 100, penalty * WAD // 100, supply_cap, lot_cap, live_cap)


PROD_CUSP = 965 * WAD // 1000  # the deploy's WETH floor: 3.5% under the oracle, buf 1


def production_weth(vault, liquidator, weth, governor) -> None:
    """WETH as the deploy lists it: a 2% penalty, auctions from the oracle price to 3.5% under it."""
    vault.setCollateralParams(weth, collateral_params(penalty=2), sender=governor)
    curve = liquidator.auctionConfig(weth).curve
    liquidator.setAuctionConfig(weth, (curve, WAD, TAIL, PROD_CUSP), sender=governor)


def open_position(vault, borrower, weth, weth_amount: int, borrow_amount: int) -> None:
    vault.supplyCollateral(weth, weth_amount, borrower, sender=borrower)
    vault.borrow(borrow_amount, borrower, borrower, sender=borrower)


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


def at(chain, timestamp: int) -> None:
    """Make the next block's timestamp exactly `timestamp`."""
    chain.pending_timestamp = timestamp


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


def strict_reverts() -> None:
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
