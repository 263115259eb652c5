"""Deploy and configure Gavel, and record where it is.

    ape run deploy --network ethereum:local:foundry [--account ALIAS] [--force]
    ape run deploy --network ethereum:mainnet:node --account ALIAS --guardian 0x... [--markets FILE]

On a local chain this deploys test tokens and settable price feeds alongside the protocol and a
real Uniswap V2, signing with Ape's first test account unless --account names another; with
--markets it lists that file's tokens, feeds and Uniswap V2 instead, which must already be on
the local chain. On any other network it lists the real tokens, feeds and Uniswap V2 of the
network's markets file (markets/<ecosystem>-<network>.toml; a fork reads its parent's, --markets
another) and deploys only Gavel itself. Every value, address and feed is checked before the
first transaction; a bad one is refused in one line naming its key.
The deployer becomes the governor. The record goes to deployments/<ecosystem>-<network>.json; a
record whose contracts are still live on the chain is never overwritten without --force, and a
chain the command started itself (a throw-away Anvil, a fork) is not recorded at all.
"""

from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from bots.keeper.deployments import (
    DeploymentExists,
    DeploymentRecord,
    check_can_write,
    deployments_path,
    has_test_accounts,
)
from scripts._deployment import DeploymentError, deploy_local
from scripts._markets import deploy_markets, load_markets, markets_path

LOCAL_NETWORKS = {"local"}


def signer(alias: str | None, network_name: str):
    if alias:
        try:
            return accounts.load(alias)
        except Exception as err:  # Ape raises its own error type per account plugin
            raise click.BadParameter(
                f"no Ape account named {alias!r} ({err}); see `ape accounts list`", param_hint="--account"
            ) from err
    if has_test_accounts(network_name):
        return accounts.test_accounts[0]
    raise click.BadParameter(
        f"--account is required on {network_name!r} (an alias from `ape accounts list`)", param_hint="--account"
    )


@click.command(cls=ConnectedProviderCommand)
@click.option(
    "--account",
    "alias",
    default=None,
    help="Ape account alias to sign with (default on local chains and forks: test account 0).",
)
@click.option(
    "--guardian",
    default=None,
    help="Address that may pause and raise the breaker (default on local chains and forks: test account 1).",
)
@click.option(
    "--markets",
    "markets_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Markets file (default on public networks: markets/<ecosystem>-<network>.toml; on local "
    "chains: none, test tokens and feeds are deployed).",
)
@click.option("--force", is_flag=True, help="Replace a deployments file whose contracts are still live.")
def cli(network, alias, guardian, markets_file, force):
    """Deploy Gavel and write its deployments file."""
    local = network.name in LOCAL_NETWORKS
    markets = None
    if markets_file or not local:
        try:
            markets = load_markets(markets_file or markets_path(network.choice))
        except DeploymentError as err:
            raise click.ClickException(str(err)) from err
    if not local and guardian is None and not has_test_accounts(network.name):
        raise click.BadParameter(f"--guardian is required on {network.name!r}", param_hint="--guardian")
    deployer = signer(alias, network.name)
    guardian = guardian or accounts.test_accounts[1]
    path = deployments_path(network.choice)
    # A chain this command started (ape-foundry's throw-away Anvil) dies when it exits: recording
    # it would replace the record of a deployment on a node that is still running.
    ephemeral = getattr(chain.provider, "process", None) is not None
    try:
        note = None if ephemeral else check_can_write(path, chain.chain_id, chain.provider.get_code, force)
    except DeploymentExists as err:
        raise click.ClickException(str(err)) from err
    if note:
        click.echo(note)

    start_block = chain.blocks.head.number + 1
    try:
        contracts = (
            deploy_markets(project, deployer, guardian, markets)
            if markets
            else deploy_local(project, deployer, guardian)
        )
    except DeploymentError as err:
        raise click.ClickException(str(err)) from err
    record = DeploymentRecord(
        network=network.choice,
        chain_id=chain.chain_id,
        start_block=start_block,
        addresses={name: contract.address for name, contract in contracts.items()},
    )
    width = max(len(name) for name in record.addresses)
    click.echo(f"Gavel deployed on {network.choice} (chain {record.chain_id}) from block {start_block}:")
    for name, address in record.addresses.items():
        click.echo(f"  {name:<{width}}  {address}")
    if ephemeral:
        click.echo(
            f"Not recorded: this chain was started by this command and ends with it (keeping "
            f"{path.relative_to(path.parent.parent)} as it is). To keep a deployment, start a node "
            "(node_modules/.bin/anvil --chain-id 1337 > anvil.log &) and deploy with --network ethereum:local:node."
        )
        return
    record.write(path)
    click.echo(f"Recorded in {path.relative_to(path.parent.parent)}")
