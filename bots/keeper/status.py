"""`python -m bots.keeper status`: what a deployment looks like now, for people and for scripts.

Per market: the Vault (lenders' assets, debt, utilisation, paused or not), the oracle's status of
every asset, the InsuranceFund, the liquidator's breaker, the accounts closest to liquidation
(health and the liquidation price of each collateral they hold) and the live auctions (price now,
lot, tab, time until they need a redo). Accounts and auctions come from the keeper's mirror,
brought up to date first (the same file the keeper uses, so a keeper running beside it is not
disturbed: indexing is idempotent). Reads need no signer.

Amounts are shown in whole tokens; JSON gives them as exact decimal strings."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from eth_utils.address import to_checksum_address

from bots.keeper.indexer import ApeChainView, Indexer
from bots.keeper.market import HEALTH_FACTORS, View
from bots.keeper.rpc import HttpJsonRpc, RpcError
from bots.keeper.store import Store

WAD = 10**18
STATUS_NAMES = ("ok", "stale", "no quorum", "disputed", "sequencer down")
BREAKER_NAMES = ("none", "no kicks", "no kicks or redos", "nothing")
LIQUIDATION_PRICE = View("liquidationPrice(address,address)", ("address", "address"), ("uint256",))
SYMBOL = View("symbol()", (), ("string",))


@dataclass
class AssetStatus:
    symbol: str
    address: str
    role: str  # "debt" | "collateral"
    price: str  # [USD per whole token]
    oracle: str  # one of STATUS_NAMES
    liquidation_threshold: str = ""  # collateral only, as a fraction
    penalty: str = ""


@dataclass
class AccountStatus:
    account: str
    health: str
    debt: str  # [debt tokens]
    liquidation_prices: dict[str, str]  # collateral symbol -> [USD per whole token]


@dataclass
class AuctionStatus:
    id: str
    account: str
    collateral: str  # symbol
    price: str  # [debt tokens per whole collateral token], now
    lot: str  # [collateral tokens]
    tab: str  # [debt tokens]
    redo_in: str  # seconds until a redo is due, or "due now"


@dataclass
class MarketStatus:
    name: str
    vault: str
    block: int
    debt_symbol: str
    lenders_assets: str
    debt: str
    utilization: str
    paused: bool
    fund_balance: str
    fund_coverage: str
    breaker: str
    accounts_total: int
    assets: list[AssetStatus] = field(default_factory=list)
    closest: list[AccountStatus] = field(default_factory=list)
    auctions: list[AuctionStatus] = field(default_factory=list)


def amount(raw: int, decimals: int) -> str:
    """`raw` in whole tokens, exact (no float)."""
    return format(Decimal(raw).scaleb(-decimals).normalize(), "f") if raw else "0"


def read_market(
    name: str, contracts: dict[str, Any], store: Store, chain: Any, top: int, confirmations: int
) -> MarketStatus:
    """The market's status now; brings `store` (the keeper's mirror) up to date first."""
    vault, liquidator, oracle, fund = (contracts[k] for k in ("vault", "liquidator", "oracle", "insurance_fund"))
    debt_asset = contracts["debt_asset"]
    Indexer(store, ApeChainView(chain, vault, liquidator), confirmations).sync()
    rpc = HttpJsonRpc(chain.provider.http_uri)
    block = int(chain.blocks.head.number)
    now = int(chain.blocks.head.timestamp)
    debt_decimals = int(debt_asset.decimals())
    symbols: dict[str, str] = {}

    def symbol(token: str) -> str:
        if token not in symbols:
            try:
                symbols[token] = str(
                    SYMBOL.decode(rpc("eth_call", [{"to": token, "data": SYMBOL.data()}, "latest"]))[0]
                )
            except (RpcError, ValueError):
                symbols[token] = token[:10]
        return symbols[token]

    debt_symbol = symbol(str(debt_asset.address))
    status = MarketStatus(
        name=name,
        vault=str(vault.address),
        block=block,
        debt_symbol=debt_symbol,
        lenders_assets=amount(int(vault.totalAssets()), debt_decimals),
        debt=amount(int(vault.totalDebt()), debt_decimals),
        utilization=f"{Decimal(int(vault.utilization())) / WAD:.2%}",
        paused=bool(vault.paused()),
        fund_balance=amount(int(debt_asset.balanceOf(fund)), debt_decimals),
        fund_coverage=amount(int(fund.coverage()), debt_decimals),
        breaker=BREAKER_NAMES[min(int(liquidator.breaker()), 3)],
        accounts_total=0,
    )
    price, code = oracle.peek(debt_asset)
    status.assets.append(AssetStatus(debt_symbol, str(debt_asset.address), "debt", amount(int(price), 18), _name(code)))
    decimals: dict[str, int] = {}
    for token in [str(t) for t in vault.collateralTokens()]:
        params = vault.collateralParams(token)
        price, code = oracle.peek(token)
        decimals[token.lower()] = int(contracts["erc20"].at(token).decimals())
        status.assets.append(
            AssetStatus(
                symbol(token),
                token,
                "collateral",
                amount(int(price), 18),
                _name(code),
                f"{Decimal(int(params[1])) / WAD:.2%}",
                f"{Decimal(int(params[2])) / WAD:.2%}",
            )
        )

    positions = store.positions()
    indebted = [a for a, (_, scaled) in positions.items() if scaled > 0]
    status.accounts_total = len(indebted)
    health: list[tuple[int, str]] = []
    for first in range(0, len(indebted), 1_000):
        part = indebted[first : first + 1_000]
        answer = rpc("eth_call", [{"to": str(vault.address), "data": HEALTH_FACTORS.data(part)}, "latest"])
        health += list(zip(HEALTH_FACTORS.decode(answer)[0], part, strict=True))
    health.sort()
    for factor, account in health[:top]:
        held = [t for t, amt in positions[account][0].items() if amt > 0]
        calls = [
            ("eth_call", [{"to": str(vault.address), "data": LIQUIDATION_PRICE.data(account, t)}, "latest"])
            for t in held
        ]
        prices = rpc.batch(calls) if calls else []
        status.closest.append(
            AccountStatus(
                to_checksum_address(account),
                f"{Decimal(int(factor)) / WAD:.4f}" if factor < 2**255 else "no debt",
                amount(int(vault.debtOf(account)), debt_decimals),
                {
                    symbol(to_checksum_address(t)): amount(int(LIQUIDATION_PRICE.decode(p)[0]), 18)
                    for t, p in zip(held, prices, strict=True)
                    if not isinstance(p, RpcError)
                },
            )
        )

    live = store.live_auctions()
    tails: dict[str, int] = {}
    for first in range(0, len(live), 500):
        ids = [auction[0] for auction in live[first : first + 500]]
        for auction_id, view in zip(ids, liquidator.auctionViews(ids), strict=True):
            if int(view.lot) == 0:
                continue
            collateral = str(view.collateral)
            if collateral not in tails:
                tails[collateral] = int(liquidator.auctionConfig(collateral).tail)
            due = int(view.startedAt) + tails[collateral] - now
            status.auctions.append(
                AuctionStatus(
                    short_id(auction_id),
                    to_checksum_address(str(view.account)),
                    symbol(collateral),
                    amount(int(view.price), 18),
                    amount(int(view.lot), decimals.get(collateral.lower(), 18)),
                    amount(int(view.tab), debt_decimals),
                    "due now" if bool(view.needsRedo) or due <= 0 else f"{due} s",
                )
            )
    return status


def _name(code: Any) -> str:
    index = int(code)
    return STATUS_NAMES[index] if 0 <= index < len(STATUS_NAMES) else f"status {index}"


def render(markets: list[MarketStatus]) -> str:
    """Tables for a terminal (under 100 columns wide for addresses shortened to 10 characters)."""
    out: list[str] = []
    for m in markets:
        out.append(f"{m.name}: Vault {m.vault} at block {m.block}{'  PAUSED' if m.paused else ''}")
        out.append(
            f"  lenders' assets {_r(m.lenders_assets)} {m.debt_symbol}, debt {_r(m.debt)}, utilisation "
            f"{m.utilization}; fund {_r(m.fund_balance)} (covers {_r(m.fund_coverage)}); breaker: {m.breaker}"
        )
        out.append("")
        out += _table(
            ["asset", "role", "price (USD)", "oracle", "threshold", "penalty"],
            [[a.symbol, a.role, _r(a.price), a.oracle, a.liquidation_threshold, a.penalty] for a in m.assets],
        )
        out.append("")
        out.append(f"  accounts closest to liquidation ({len(m.closest)} of {m.accounts_total} with debt):")
        out += _table(
            ["account", "health", f"debt ({m.debt_symbol})", "liquidation price (USD)"],
            [
                [
                    _short(a.account),
                    a.health,
                    _r(a.debt),
                    ", ".join(f"{k} {_r(v)}" for k, v in a.liquidation_prices.items()),
                ]
                for a in m.closest
            ],
        )
        out.append("")
        out.append(f"  live auctions: {len(m.auctions)}")
        if m.auctions:
            out += _table(
                ["auction", "account", "lot", "price now", f"tab ({m.debt_symbol})", "redo"],
                [
                    [a.id, _short(a.account), f"{_r(a.lot, 4)} {a.collateral}", _r(a.price), _r(a.tab), a.redo_in]
                    for a in m.auctions
                ],
            )
        out.append("")
    return "\n".join(out)


def to_json(markets: list[MarketStatus]) -> str:
    return json.dumps({"time": int(time.time()), "markets": [asdict(m) for m in markets]}, indent=2)


def _r(value: str, places: int = 2) -> str:
    """For a table: rounded to `places` decimals, thousands separated (JSON keeps every digit)."""
    return f"{Decimal(value):,.{places}f}"


def short_id(auction_id: int | str) -> str:
    """An auction id (a 256-bit hash, 77 decimal digits) as people read it, here and in the
    keeper's logs: its first and last hex digits."""
    hexed = hex(int(auction_id))
    return hexed if len(hexed) <= 16 else hexed[:10] + "…" + hexed[-6:]


def _short(address: str) -> str:
    return address[:6] + "…" + address[-4:]


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    line = "  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line.rstrip(), "  " + "  ".join("-" * w for w in widths)]
    out += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return out
