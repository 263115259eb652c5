"""Markets files: the real tokens, price feeds and DEX a deployment on a public network lists.

`markets/<ecosystem>-<network>.toml` (a fork uses its parent's file: ethereum-mainnet-fork reads
ethereum-mainnet). Every key is checked; a bad or unknown one is named in the error. Ratios are
written as decimals ("0.80") and become WAD; amounts are whole tokens."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from eth_utils.address import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

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


def addresses_without_code(markets: Markets, code_at: Any) -> list[str]:
    """Every address of the markets file that holds no code on this chain, by its key (the
    factory aside: it is never called, pairs are computed from it)."""
    named = [("debt.address", markets.debt.address), ("uniswap_v2.router", markets.uniswap_v2.router)]
    named += [(f"debt.feeds[{i}]", feed) for i, feed in enumerate(markets.debt.feeds)]
    for i, collateral in enumerate(markets.collateral):
        named.append((f"collateral[{i}].address ({collateral.symbol})", collateral.address))
        named += [(f"collateral[{i}].feeds[{j}] ({collateral.symbol})", f) for j, f in enumerate(collateral.feeds)]
    return [f"{key} = {address}" for key, address in named if not code_at(to_checksum_address(address))]


def deploy_markets(
    project: Any, deployer: Any, guardian: Any, markets: Markets, config: ProtocolConfig | None = None
) -> dict[str, Any]:
    """The protocol over the markets' real debt asset, its collaterals priced by their real
    feeds, and the flash taker selling on the markets' Uniswap V2. Nothing else is deployed."""
    from ape.contracts import ContractContainer, ContractInstance

    from scripts._deployment import deploy_protocol, npm_artifact, set_gas_asset

    missing = addresses_without_code(markets, deployer.provider.get_code)
    if missing:  # before anything is sent: a half deployment on a real network is gas for nothing
        raise DeploymentError(f"no contract at {'; '.join(missing)}: fix the markets file (wrong network?)")
    config = config or ProtocolConfig()
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
    debt_scale = 10 ** debt.decimals()
    for market in markets.collateral:
        token = erc20.at(market.address)
        list_collateral(
            contracts, deployer, token, market.feeds, spec_for(market, token.decimals()), config, debt_scale,
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
