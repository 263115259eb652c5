"""Keeper configuration: a TOML file plus environment variables (prefix GAVEL_KEEPER_, which win).

Keys only ever name an Ape account alias for signing: a raw key never goes in this file, the
environment, or a log."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from bots.keeper.deployments import deployments_path
from bots.keeper.errors import ConfigError
from bots.keeper.strategy import KickMode

ENV_PREFIX = "GAVEL_KEEPER_"


class RouteSettings(BaseModel):
    """How a take sells one collateral: exactly one of a Uniswap V2 path (tokens, the collateral
    first and the debt asset last, one pair per hop) or a Uniswap V3 path (token, fee, token, ...
    with fees in hundredths of a basis point, e.g. 3000 for 0.3%). Tokens are addresses or names
    from the deployment record (`weth`, `usdc`...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uniswap_v2_path: list[str] | None = None
    uniswap_v3_path: list[str | int] | None = None

    @model_validator(mode="after")
    def _one_path(self) -> RouteSettings:
        if (self.uniswap_v2_path is None) == (self.uniswap_v3_path is None):
            raise ValueError("give exactly one of uniswap_v2_path and uniswap_v3_path")
        if self.uniswap_v2_path is not None and len(self.uniswap_v2_path) < 2:
            raise ValueError("uniswap_v2_path needs at least two tokens")
        v3 = self.uniswap_v3_path
        if v3 is not None and (
            len(v3) < 3
            or len(v3) % 2 == 0
            or not all(isinstance(x, str) for x in v3[0::2])
            or not all(isinstance(x, int) and 0 < x < 1_000_000 for x in v3[1::2])
        ):
            raise ValueError("uniswap_v3_path alternates tokens and fees: [token, fee, token, ...]")
        return self


class MarketSettings(BaseModel):
    """One Gavel deployment the keeper serves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deployments: Path = Field(description="the market's deployment record")
    database: Path | None = Field(None, description="its mirror; default keeper-<record's file name>.sqlite")
    name: str | None = Field(None, description="in logs and metrics; default the record's file name")
    native_asset: str | None = Field(
        None, description="the wrapped native token the oracle prices, to price gas; default the record's weth"
    )
    routes: dict[str, RouteSettings] = Field(
        default_factory=dict, description="collateral -> how takes sell it; default its direct V2 pair"
    )

    @property
    def label(self) -> str:
        return self.name or self.deployments.stem

    @property
    def mirror(self) -> Path:
        return self.database or Path(f"keeper-{self.deployments.stem}.sqlite")


class KeeperSettings(BaseSettings):
    """Everything the keeper can be told. Unknown keys are refused, by name."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    network: str = Field(
        "ethereum:local:node", description="Ape network choice; default the local node the README starts (port 8545)"
    )
    account: str | None = Field(None, description="Ape account alias; on a local chain, test account 0 if unset")
    deployments: Path | None = Field(
        None, description="deployments file; default deployments/<ecosystem>-<network>.json"
    )
    database: Path = Field(Path("keeper.sqlite"), description="SQLite mirror and checkpoint")
    markets: list[MarketSettings] = Field(
        default_factory=list, description="several markets, each [[markets]]; default the one in deployments"
    )
    outbox: Path | None = Field(None, description="the signer's sent transactions; default the first market's file")
    kick_mode: KickMode = KickMode.PROFIT
    kick_margin_bps: int = Field(2_000, ge=0, le=100_000, description="incentive must beat gas by this much")
    kick_take_bps: int = Field(
        50,
        ge=0,
        le=10_000,
        description="share of the tab a kick expects to earn taking its auction, counted with the incentive",
    )
    take_min_profit_bps: int = Field(50, ge=0, le=10_000, description="least profit per unit paid")
    take_lookahead_seconds: int = Field(
        24, ge=0, description="no take of an auction that would need a redo this many seconds later (0: off)"
    )
    use_flash_taker: bool = Field(True, description="take through the UniswapV2Taker (no capital needed)")
    max_fee_gwei: float = Field(200.0, gt=0, description="EIP-1559 max fee cap")
    priority_fee_gwei: float = Field(1.0, ge=0)
    confirmations: int = Field(2, ge=0, le=64, description="index only blocks this far behind the head")
    poll_seconds: float = Field(1.0, gt=0)
    replace_after_blocks: int = Field(3, ge=1, description="bump a transaction still pending after this many blocks")
    dry_run: bool = False
    kicks_per_tick: int = Field(1_000, ge=1, description="kicks sent per tick at most, largest value at risk first")
    takes_per_tick: int = Field(100, ge=1, description="takes and redos sent per tick at most, after the kicks")
    tick_seconds: float = Field(10.0, ge=0, description="a tick starts no new work after this long")
    auctions_per_tick: int = Field(2_000, ge=1, description="live auctions read per tick (500 per call)")
    watch_sigmas: float = Field(3.0, ge=0, description="watch list: accounts a fall of this many standard deviations")
    watch_rounds: int = Field(3, ge=1, description="... over this many oracle rounds would put under")
    watch_simulations_per_tick: int = Field(500, ge=0, description="watched kicks simulated per tick")
    watch_pool: bool = Field(True, description="kick behind oracle updates still in the node's pool, in their block")
    lease_url: str | None = Field(
        None, pattern=r"^rediss?://", description="Redis for the signer's lease when several workers share it"
    )
    lease_wait_seconds: float = Field(5.0, ge=0, description="how long a worker waits for the lease per block")
    lease_ttl_seconds: float = Field(120.0, gt=0, description="a lease held longer than this is freed (a dead worker)")
    metrics_port: int | None = Field(None, ge=1, le=65_535)
    log_level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    heartbeat_seconds: float = Field(
        60.0, ge=0, description="a market whose ticks do nothing logs one heartbeat line this often (0: every tick)"
    )

    @model_validator(mode="after")
    def _markets_apart(self) -> KeeperSettings:
        mirrors = [m.mirror.resolve() for m in self.markets]
        labels = [m.label for m in self.markets]
        if len(set(mirrors)) < len(mirrors) or len(set(labels)) < len(labels):
            raise ValueError("each market needs its own database and name")
        return self

    @model_validator(mode="after")
    def _lease_outlives_a_tick(self) -> KeeperSettings:
        if self.lease_ttl_seconds <= 2 * self.tick_seconds:
            raise ValueError("lease_ttl_seconds must be more than twice tick_seconds: a lease must outlive a tick")
        return self

    def market_list(self) -> list[MarketSettings]:
        """The markets to serve: `markets`, or the one named by `deployments` and `database`."""
        if self.markets:
            return list(self.markets)
        record = self.deployments or deployments_path(self.network)
        return [MarketSettings(deployments=record, database=self.database, name=None, native_asset=None)]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """CLI flags over the environment over the TOML file."""
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)


def load_settings(path: Path | None = None, **overrides: Any) -> KeeperSettings:
    """Settings from `path` (TOML, optional), overridden by the environment, overridden by
    `overrides` (the CLI's flags; None means not given). Raises ConfigError naming the bad or
    unknown key."""
    if path is not None and not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    known = {name.upper() for name in KeeperSettings.model_fields} | {"CONFIG"}  # CONFIG: the bot's file
    for variable in os.environ:
        if variable.startswith(ENV_PREFIX) and variable[len(ENV_PREFIX) :] not in known:
            raise ConfigError(
                f"environment variable {variable}: no such setting (the settings are "
                f"{', '.join(ENV_PREFIX + k for k in sorted(known - {'CONFIG'}))})"
            )
    settings_cls = type(
        "KeeperSettingsFromFile",
        (KeeperSettings,),
        {"model_config": {**KeeperSettings.model_config, "toml_file": path}},
    )
    try:
        settings: KeeperSettings = settings_cls(**{k: v for k, v in overrides.items() if v is not None})
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {path} is not valid TOML: {err}") from err
    except ValidationError as err:
        problems = "; ".join(f"config key {'.'.join(str(p) for p in e['loc'])!r}: {e['msg']}" for e in err.errors())
        raise ConfigError(problems) from err
    return settings
