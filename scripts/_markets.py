"""Markets files: the real tokens, price feeds and DEX a deployment on a public network lists.

`markets/<ecosystem>-<network>.toml` (a fork uses its parent's file: ethereum-mainnet-fork reads
ethereum-mainnet). Every key is checked; a bad or unknown one is named in the error. Ratios are
written as decimals ("0.80") and become WAD; amounts are whole tokens."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Protocol

from eth_abi import decode
from eth_utils.address import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from scripts._bounds import MAX_DECIMALS, bound, collateral_problems, protocol_problems, within
from scripts._deployment import ROOT, WAD, CollateralSpec, DeploymentError, ProtocolConfig, list_collateral

MARKETS_DIR = ROOT / "markets"
ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
Address = Annotated[str, StringConstraints(pattern=ADDRESS_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DebtMarket(_Strict):
    symbol: str
    address: Address
    feeds: list[str] = Field(min_length=1, max_length=5)
    heartbeat: int = Field(gt=0, description="[s]")

    @field_validator("feeds")
    @classmethod
    def _feeds_are_addresses(cls, feeds: list[str]) -> list[str]:
        # One message for the list (not one per index), naming the value that is not an address.
        for feed in feeds:
            if not re.fullmatch(ADDRESS_PATTERN, feed):
                raise ValueError(f"{feed!r} is not an address")
        return feeds


class CollateralMarket(DebtMarket):
    max_ltv: Decimal | None = None
    liquidation_threshold: Decimal | None = None
    penalty: Decimal | None = None
    supply_cap: int | None = Field(None, gt=0)
    lot_cap: int | None = Field(None, gt=0)
    live_tab_cap: int | None = Field(None, gt=0)
    buf: Decimal | None = None
    tail: int | None = Field(None, gt=0)
    cusp: Decimal | None = None
    quorum: int = Field(1, ge=1, le=5)


class UniswapV2(_Strict):
    factory: Address
    router: Address


class Markets(_Strict):
    debt: DebtMarket
    uniswap_v2: UniswapV2
    collateral: list[CollateralMarket] = Field(min_length=1, max_length=10)


def markets_path(network_choice: str) -> Path:
    ecosystem, network = network_choice.split(":")[:2]
    return MARKETS_DIR / f"{ecosystem}-{network.removesuffix('-fork')}.toml"


def load_markets(path: Path) -> Markets:
    """The markets file at `path`; DeploymentError naming the file and the bad key otherwise."""
    if not path.is_file():
        raise DeploymentError(
            f"no markets file {path}: write one (see markets/ethereum-mainnet.toml) or pass --markets"
        )
    try:
        return Markets.model_validate(tomllib.loads(path.read_text()))
    except tomllib.TOMLDecodeError as err:
        raise DeploymentError(f"{path} is not valid TOML: {err}") from err
    except ValidationError as err:
        problems = "; ".join(f"key {'.'.join(str(p) for p in e['loc'])!r}: {e['msg']}" for e in err.errors())
        raise DeploymentError(f"{path}: {problems}") from err


def spec_for(market: CollateralMarket, decimals: int) -> CollateralSpec:
    """The collateral's risk parameters: the file's values over the defaults."""
    ratios = {
        name: int(value * WAD)
        for name in ("max_ltv", "liquidation_threshold", "penalty", "buf", "cusp")
        if (value := getattr(market, name)) is not None
    }
    whole = {
        name: value for name in ("supply_cap", "lot_cap", "live_tab_cap", "tail") if (value := getattr(market, name))
    }
    return CollateralSpec(market.symbol, decimals, usd_price=0, heartbeat=market.heartbeat, **ratios, **whole)


DECIMALS = bytes.fromhex("313ce567")  # decimals()
TOTAL_SUPPLY = bytes.fromhex("18160ddd")  # totalSupply()
LATEST_ROUND_DATA = bytes.fromhex("feaf968c")  # latestRoundData()


class ChainReads(Protocol):
    """What the checks read from the chain, before anything is sent."""

    def code(self, address: str) -> bytes: ...

    def call(self, address: str, data: bytes) -> bytes | None:
        """What an eth_call at the latest block returned; None if it reverted."""

    def now(self) -> int:
        """The latest block's timestamp [s]."""


@dataclass(frozen=True)
class ProviderReads:
    """ChainReads through an Ape provider."""

    provider: Any

    def code(self, address: str) -> bytes:
        return bytes(self.provider.get_code(address))

    def call(self, address: str, data: bytes) -> bytes | None:
        try:
            result = self.provider.make_request("eth_call", [{"to": address, "data": "0x" + data.hex()}, "latest"])
        except Exception:  # noqa: BLE001 - Ape raises one error type per kind of revert
            return None
        return bytes.fromhex(str(result).removeprefix("0x"))

    def now(self) -> int:
        return int(self.provider.get_block("latest").timestamp)


def duplicate_problems(markets: Markets) -> list[str]:
    """A token listed twice (by address, or by symbol: the record names each by its symbol) and
    a feed given twice to one market (the oracle refuses that)."""
    problems: list[str] = []
    addresses = {markets.debt.address.lower(): "debt.address"}
    symbols = {markets.debt.symbol.lower(): "debt.symbol"}
    for i, market in enumerate(markets.collateral):
        for seen, value, key in (
            (addresses, market.address.lower(), f"collateral[{i}].address ({market.symbol})"),
            (symbols, market.symbol.lower(), f"collateral[{i}].symbol"),
        ):
            if value in seen:
                problems.append(f"{key} = {value} repeats {seen[value]}")
            seen.setdefault(value, key)
    for key, market in _markets_by_key(markets):
        feeds: dict[str, int] = {}
        for j, feed in enumerate(market.feeds):
            if feed.lower() in feeds:
                problems.append(f"{key}.feeds[{j}]{_label(market)} = {feed} repeats {key}.feeds[{feeds[feed.lower()]}]")
            feeds.setdefault(feed.lower(), j)
    return problems


def token_problems(key: str, address: str, chain: ChainReads) -> tuple[list[str], int]:
    """([], decimals) for a token on this chain, else its problem and 0."""
    if not chain.code(to_checksum_address(address)):
        return [f"no contract at {key} = {address}"], 0
    decimals = _uint(chain.call(to_checksum_address(address), DECIMALS))
    # decimals() alone would take a price feed for a token
    supply = _uint(chain.call(to_checksum_address(address), TOTAL_SUPPLY))
    if decimals is None or decimals > MAX_DECIMALS or supply is None:
        return [f"{key} = {address} is not a token (no totalSupply(), or no decimals() up to {MAX_DECIMALS})"], 0
    return [], decimals


def feed_problems(key: str, address: str, heartbeat: int, chain: ChainReads, now: int) -> list[str]:
    """[] for a price feed that answers now as OracleAdapter requires (a positive answer from a
    complete round, dated within its heartbeat), else what it does instead."""
    at = to_checksum_address(address)
    if not chain.code(at):
        return [f"no contract at {key} = {address}"]
    decimals = _uint(chain.call(at, DECIMALS))
    data = chain.call(at, LATEST_ROUND_DATA)
    if decimals is None or decimals > MAX_DECIMALS or data is None or len(data) < 5 * 32:
        return [f"{key} = {address} is not a price feed (no decimals() and latestRoundData())"]
    round_id, answer, _, updated, answered_in_round = decode(["uint256", "int256"] + ["uint256"] * 3, data[: 5 * 32])
    if answer <= 0:
        return [f"{key} = {address} answers {answer}, not a positive price"]
    if updated == 0 or updated > now or answered_in_round < round_id:
        return [f"{key} = {address} has no complete round (updatedAt {updated}, round {round_id})"]
    if now - updated > heartbeat:
        return [f"{key} = {address} is stale: its answer is {now - updated} s old, over the heartbeat of {heartbeat} s"]
    return []


def check_markets(markets: Markets, chain: ChainReads, config: ProtocolConfig) -> dict[str, int]:
    """Everything a deployment from `markets` would be refused for, read before anything is
    sent: duplicates, an address without code, a token or feed that does not answer as one, and
    every value outside the contracts' bounds. Raises DeploymentError naming each bad key in one
    line; returns each token's decimals by address."""
    problems = duplicate_problems(markets) + protocol_problems(config)
    if not chain.code(to_checksum_address(markets.uniswap_v2.router)):
        problems.append(f"no contract at uniswap_v2.router = {markets.uniswap_v2.router}")
    now = chain.now()
    decimals: dict[str, int] = {}
    for key, market in _markets_by_key(markets):
        found, decimals[market.address] = token_problems(f"{key}.address{_label(market)}", market.address, chain)
        problems += found
        for j, feed in enumerate(market.feeds):
            problems += feed_problems(f"{key}.feeds[{j}]{_label(market)}", feed, market.heartbeat, chain, now)
    problems += within("debt.heartbeat", markets.debt.heartbeat, bound("MIN_HEARTBEAT"), bound("MAX_HEARTBEAT"))
    debt_decimals = decimals[markets.debt.address]
    for i, market in enumerate(markets.collateral):
        spec = spec_for(market, decimals[market.address])
        problems += collateral_problems(
            spec, f"collateral[{i}].{{}} ({market.symbol})".format, 10**debt_decimals,
            feeds=len(market.feeds), quorum=market.quorum,
        )  # fmt: skip
    if problems:
        # "no contract" mostly means the file is for another network
        raise DeploymentError(f"{'; '.join(problems)}: fix the markets file (or the network)")
    return decimals


def _markets_by_key(markets: Markets) -> list[tuple[str, DebtMarket]]:
    return [("debt", markets.debt)] + [(f"collateral[{i}]", m) for i, m in enumerate(markets.collateral)]


def _label(market: DebtMarket) -> str:
    """The symbol a collateral's keys carry in messages (the debt has one only)."""
    return f" ({market.symbol})" if isinstance(market, CollateralMarket) else ""


def _uint(data: bytes | None) -> int | None:
    """A returned word as an unsigned integer; None when there is none."""
    return int.from_bytes(data[:32]) if data is not None and len(data) >= 32 else None


def deploy_markets(
    project: Any, deployer: Any, guardian: Any, markets: Markets, config: ProtocolConfig | None = None
) -> dict[str, Any]:
    """The protocol over the markets' real debt asset, its collaterals priced by their real
    feeds, and the flash taker selling on the markets' Uniswap V2. Nothing else is deployed."""
    from ape.contracts import ContractContainer, ContractInstance

    from scripts._deployment import deploy_protocol, npm_artifact, set_gas_asset

    config = config or ProtocolConfig()
    # Before anything is sent: a half deployment on a real network is gas for nothing.
    decimals = check_markets(markets, ProviderReads(deployer.provider), config)
    erc20 = project.MockERC20  # any ERC-20 ABI serves for reading decimals and symbol
    debt = erc20.at(markets.debt.address)
    contracts = deploy_protocol(project, deployer, deployer, guardian, debt, config)
    contracts["oracle"].setSources(
        debt,
        markets.debt.feeds,
        [markets.debt.heartbeat] * len(markets.debt.feeds),
        1,
        config.max_deviation,
        sender=deployer,
    )
    contracts["debt_asset"] = debt
    debt_scale = 10 ** decimals[markets.debt.address]
    for market in markets.collateral:
        token = erc20.at(market.address)
        list_collateral(
            contracts, deployer, token, market.feeds, spec_for(market, decimals[market.address]), config, debt_scale,
            quorum=market.quorum,
        )  # fmt: skip
        contracts[market.symbol.lower()] = token
    set_gas_asset(contracts, deployer, config)
    router = ContractContainer(npm_artifact("@uniswap/v2-periphery", "UniswapV2Router02")).at(markets.uniswap_v2.router)
    # Not `.at()`: that insists on code at the address, and the factory is never called (pairs are
    # computed from it), so a fork whose upstream did not record the factory still works.
    factory = ContractInstance(markets.uniswap_v2.factory, npm_artifact("@uniswap/v2-core", "UniswapV2Factory"))
    taker = project.UniswapV2Taker.deploy(contracts["liquidator"], debt, sender=deployer)
    contracts.update({"uniswap_factory": factory, "uniswap_router": router, "taker": taker})
    return contracts
