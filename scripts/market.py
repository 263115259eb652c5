"""Open borrowers and move prices on a local chain you keep running, to watch `status` and the
keeper at work without writing a script (the README's by-hand block):

    ape run market --network ethereum:local:node --borrowers 10
    ape run market --network ethereum:local:node --price ETH=1500

It acts on the deployment recorded for that network (`ape run deploy` wrote it). Before the first
borrower it gives the market what a user would find on a live one: lenders' USDC in the Vault
and a Uniswap V2 pool with depth for each collateral, at its feed's price. A borrower is a test
account derived from the test mnemonic (index 1,000 up), its WETH supplied for it and its loan
taken at a loan-to-value from 50% to 74% (liquidation at 80%): a fall of 8% puts the first under,
one of 35% all of them. `--price` sets the local feeds (8 decimals, as Chainlink's) and trades
each pool to the new price, as an arbitrageur would. Local test tokens and settable feeds only:
a record whose feeds cannot be set is refused before anything is sent."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, NamedTuple

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand
from ape.contracts import ContractContainer
from ape.logging import logger
from ape.utils import generate_dev_accounts

from bots.keeper.deployments import DeploymentNotFound, DeploymentRecord, deployments_path
from scripts._deployment import add_liquidity, npm_artifact
from scripts._pools import trade_to

USDC, WAD = 10**6, 10**18
FIRST_BORROWER = 1_000  # test-mnemonic index of the first borrower: far from the named test accounts
MAX_BORROWERS = 200  # each is three transactions on a chain mining once a second
POOL_USD = 20_000_000  # [whole USDC] each side of a new pool, at the feed's price: deep enough that
# the keeper sells ten borrowers' lots at the floor with no arbitrageur bringing it back between takes
# Test accounts this command signs with: never test account 0, the keeper's signer on a local
# chain (a keeper running beside it would race it for nonces).
LENDER, MAKER = 2, 9  # the lender; the market maker: pools, the borrowers' WETH, price moves
LENDERS_USD = 5_000_000  # [whole USDC] what the lender keeps available in the Vault
SYMBOLS = {"ETH": "weth", "WETH": "weth", "BTC": "wbtc", "WBTC": "wbtc", "USDC": "usdc"}  # --price names


class PriceMove(NamedTuple):
    name: str  # the record's name for the token: weth, wbtc, usdc
    dollars: int


def parse_price(text: str) -> PriceMove:
    """`ETH=1500` -> PriceMove('weth', 1500); click.BadParameter naming the bad part."""
    symbol, _, value = text.partition("=")
    name = SYMBOLS.get(symbol.strip().upper())
    if name is None:
        raise click.BadParameter(
            f"{text!r}: unknown asset {symbol!r}, expected one of {', '.join(sorted(SYMBOLS))}", param_hint="--price"
        )
    try:
        dollars = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: the price must be whole dollars, e.g. ETH=1500", param_hint="--price"
        ) from None
    if dollars <= 0:
        raise click.BadParameter(f"{text!r}: the price must be above zero", param_hint="--price")
    return PriceMove(name, dollars)


def _prices(ctx: Any, param: Any, values: tuple[str, ...]) -> list[PriceMove]:
    return [parse_price(v) for v in values]


@click.command(cls=ConnectedProviderCommand)
@click.option(
    "--borrowers",
    type=click.IntRange(0, MAX_BORROWERS),
    default=0,
    help=f"Open this many more borrowers (at most {MAX_BORROWERS} a run).",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Seed for the borrowers' sizes and loans.")
@click.option(
    "--price", "prices", multiple=True, callback=_prices, help="Set an asset's price in whole dollars: ETH=1500."
)
@click.option(
    "--deployments",
    "record_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Deployment record (default: deployments/<ecosystem>-<network>.json, as `ape run deploy` writes it).",
)
def cli(network, borrowers: int, seed: int, prices: list[PriceMove], record_path: Path | None) -> None:
    """Open borrowers and move prices on a local chain."""
    if not borrowers and not prices:
        raise click.UsageError("nothing to do: give --borrowers N and/or --price ASSET=DOLLARS")
    if getattr(chain.provider, "process", None) is not None:
        raise click.ClickException(
            f"{network.choice} is a chain this command started and would stop at its end: start a node "
            "(the README's by-hand block) and pass --network ethereum:local:node"
        )
    logger.set_level("WARNING")  # a line per step, not per transaction
    contracts = _contracts(record_path or deployments_path(network.choice))
    for move in prices:
        if f"{move.name}_feed" not in contracts or move.name not in contracts:
            raise click.ClickException(f"--price: the deployment has no settable feed for {move.name.upper()}")
    people = _existing_borrowers(contracts)
    if borrowers:
        _prepare_market(contracts)
        people += _open_borrowers(contracts, len(people), borrowers, seed)
    for move in prices:
        _move_price(contracts, move)
    _report(contracts, people)


def _contracts(path: Path) -> dict[str, Any]:
    """The recorded deployment, each contract at its address; refuses a record whose Vault has no
    code on this chain (a record from another run of Anvil)."""
    try:
        record = DeploymentRecord.read(path)
    except DeploymentNotFound as err:
        raise click.ClickException(str(err)) from err
    if record.chain_id != chain.chain_id:
        raise click.ClickException(f"{path} is for chain {record.chain_id}, this node is chain {chain.chain_id}")
    vault = record.addresses.get("vault", "")
    if not vault or not chain.provider.get_code(vault):
        raise click.ClickException(
            f"{path}: no Vault at {vault or '(none)'} on this chain (a node restarted since?): "
            "run `ape run deploy` again"
        )
    types = {
        "vault": project.Vault,
        "usdc": project.MockERC20,
        "weth": project.MockERC20,
        "wbtc": project.MockERC20,
        "usdc_feed": project.MockAggregator,
        "weth_feed": project.MockAggregator,
        "wbtc_feed": project.MockAggregator,
        "uniswap_factory": ContractContainer(npm_artifact("@uniswap/v2-core", "UniswapV2Factory")),
        "uniswap_router": ContractContainer(npm_artifact("@uniswap/v2-periphery", "UniswapV2Router02")),
    }
    return {name: kind.at(record.addresses[name]) for name, kind in types.items() if name in record.addresses}


def _borrower(index: int) -> Any:
    """The `index`th borrower: the test mnemonic's account FIRST_BORROWER + index (public keys)."""
    container = accounts.test_accounts.containers["test"]
    dev = generate_dev_accounts(container.mnemonic, 1, hd_path=container.hd_path, start_index=FIRST_BORROWER + index)[0]
    return accounts.test_accounts.init_test_account(FIRST_BORROWER + index, dev.address, dev.private_key)


def _existing_borrowers(contracts: dict[str, Any]) -> list[str]:
    """Borrowers earlier runs opened: consecutive indexes from FIRST_BORROWER holding collateral."""
    people: list[str] = []
    while True:
        address = _borrower(len(people)).address
        if not contracts["vault"].collateralOf(address, contracts["weth"]) and not contracts["vault"].debtOf(address):
            return people
        people.append(address)


def _prepare_market(contracts: dict[str, Any]) -> None:
    """Lenders' USDC in the Vault and a pool for each collateral, where missing."""
    lender, owner = accounts.test_accounts[LENDER], accounts.test_accounts[MAKER]
    vault, usdc = contracts["vault"], contracts["usdc"]
    idle = usdc.balanceOf(vault)
    if idle < LENDERS_USD * USDC // 2:
        amount = LENDERS_USD * USDC - idle
        usdc.mint(lender, amount, sender=lender)
        usdc.approve(vault, amount, sender=lender)
        vault.deposit(amount, lender, sender=lender)
        click.echo(f"Lender {lender.address[:10]}... deposited {amount // USDC:,} USDC")
    factory, router = contracts["uniswap_factory"], contracts["uniswap_router"]
    for name in ("weth", "wbtc"):
        if name not in contracts:
            continue
        token = contracts[name]
        pair = factory.getPair(token, usdc)
        if int(pair, 16) and token.balanceOf(pair):
            continue
        dollars = _dollars(contracts[f"{name}_feed"])
        amount = POOL_USD * 10 ** token.decimals() // dollars
        add_liquidity(router, owner, token, usdc, amount, POOL_USD * USDC)
        click.echo(f"Uniswap V2 pool {name.upper()}/USDC opened: {POOL_USD:,} USDC a side at ${dollars:,}")


def _open_borrowers(contracts: dict[str, Any], first: int, n: int, seed: int) -> list[str]:
    """`n` borrowers from index `first`: 1-20 WETH each, borrowing 50-74% of its value."""
    vault, weth, funder = contracts["vault"], contracts["weth"], accounts.test_accounts[MAKER]
    dollars = _dollars(contracts["weth_feed"])
    rng = random.Random(seed * 1_000_003 + first)
    plans = [(_borrower(first + i), rng.randint(1, 20) * WAD, rng.randint(50, 74)) for i in range(n)]
    total = sum(collateral for _, collateral, _ in plans)
    weth.mint(funder, total, sender=funder)
    weth.approve(vault, total, sender=funder)
    for k, (who, collateral, ltv) in enumerate(plans, start=1):
        chain.provider.make_request("anvil_setBalance", [who.address, hex(10**18)])  # gas money
        vault.supplyCollateral(weth, collateral, who, sender=funder)  # anyone may supply for an account
        debt = collateral * dollars * ltv // 100 // WAD * USDC
        vault.borrow(debt, who, who, sender=who)
        click.echo(
            f"Borrower {k}/{n} {who.address[:10]}...: {collateral // WAD} WETH, borrowed {debt // USDC:,} USDC "
            f"({ltv}% of its value)"
        )
    return [who.address for who, _, _ in plans]


def _move_price(contracts: dict[str, Any], move: PriceMove) -> None:
    """Set the feed; trade the pool (if any) to the new price."""
    feed, owner = contracts[f"{move.name}_feed"], accounts.test_accounts[MAKER]
    before = _dollars(feed)
    feed.setAnswer(move.dollars * 10**8, sender=owner)
    line = f"{move.name.upper()} ${before:,} -> ${move.dollars:,} (feed {feed.address[:10]}...)"
    if move.name != "usdc" and "uniswap_factory" in contracts:
        token, usdc = contracts[move.name], contracts["usdc"]
        pair = contracts["uniswap_factory"].getPair(token, usdc)
        if int(pair, 16) and token.balanceOf(pair):
            pool = ContractContainer(npm_artifact("@uniswap/v2-core", "UniswapV2Pair")).at(pair)
            trade_to(move.dollars * USDC, pool, contracts["uniswap_router"], token, usdc, owner)
            line += "; its Uniswap pool traded to it"
    click.echo(line)


def _dollars(feed: Any) -> int:
    """[whole USD] a Chainlink-interface feed's answer (8 decimals)."""
    return int(feed.latestRoundData()[1]) // 10**8


def _report(contracts: dict[str, Any], people: list[str]) -> None:
    if not people:
        click.echo("No borrowers yet: --borrowers N opens some")
        return
    factors = [int(h) for h in contracts["vault"].healthFactors(people)]
    under = sum(1 for h in factors if h < WAD)
    lowest = min(factors) / WAD
    click.echo(
        f"{len(people)} borrowers; {under} below health 1 (lowest {lowest:.3f})"
        + (": the keeper can kick them (`python -m bots.keeper run ...`)" if under else "")
    )
