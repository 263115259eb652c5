"""`ape run market`, the by-hand block's way to open borrowers and move a price, run as a user
runs it (its own process) against a standalone Anvil holding a deployment: borrowers opened,
lenders' USDC and a pool added where missing, a price moved and the pool traded to it; a bad
option refused in one line before anything is sent."""

from __future__ import annotations

import subprocess

import pytest
from ape.contracts import ContractContainer

from bots.keeper.deployments import DeploymentRecord
from processes import Node
from scripts._deployment import ROOT, deploy_local, npm_artifact

WAD = 10**18
APE = str((ROOT / ".venv" / "bin" / "ape") if (ROOT / ".venv" / "bin" / "ape").exists() else "ape")


@pytest.fixture(scope="module")
def local(networks, project, accounts, tmp_path_factory):
    """A standalone Anvil with `ape run deploy`'s local deployment (no pool, no lenders yet) and
    its record in a temporary file."""
    node = Node(tmp_path_factory.mktemp("anvil"))
    node.start()
    with networks.parse_network_choice(node.network) as provider:
        chain = provider.chain_manager
        start = chain.blocks.head.number + 1
        c = deploy_local(project, accounts[0], accounts[1])
        record = DeploymentRecord("ethereum:local:node", chain.chain_id, start, {k: v.address for k, v in c.items()})
    path = tmp_path_factory.mktemp("record") / "ethereum-local.json"
    record.write(path)
    yield node, path, record
    node.stop()


def market(node, path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [APE, "run", "market", "--network", node.network, "--deployments", str(path), *args]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)


def on(node, networks, action):
    with networks.parse_network_choice(node.network) as provider:
        return action(provider.chain_manager)


def test_borrowers_then_a_price_fall_put_accounts_under(local, networks, project, accounts):
    node, path, record = local
    keeper_signer = accounts[0].address  # a keeper's default signer on a local chain
    nonce = on(node, networks, lambda chain: chain.provider.get_nonce(keeper_signer))
    opened = market(node, path, "--borrowers", "4")
    assert opened.returncode == 0, opened.stdout + opened.stderr
    lines = opened.stdout.splitlines()
    assert sum(line.startswith("Borrower ") for line in lines) == 4
    assert any("deposited" in line for line in lines) and any("pool WETH/USDC opened" in line for line in lines)
    assert lines[-1].startswith("4 borrowers; 0 below health 1")

    fell = market(node, path, "--price", "ETH=1300")
    assert fell.returncode == 0, fell.stdout + fell.stderr
    assert "WETH $2,000 -> $1,300" in fell.stdout and "traded to it" in fell.stdout

    def read(chain):
        factory = ContractContainer(npm_artifact("@uniswap/v2-core", "UniswapV2Factory")).at(
            record.addresses["uniswap_factory"]
        )
        pair = factory.getPair(record.addresses["weth"], record.addresses["usdc"])
        weth, usdc = (project.MockERC20.at(record.addresses[name]) for name in ("weth", "usdc"))
        vault = project.Vault.at(record.addresses["vault"])
        return vault.totalDebt(), usdc.balanceOf(pair) * 10**12 / weth.balanceOf(pair)

    debt, pool_price = on(node, networks, read)
    assert debt > 0
    assert 1_290 < pool_price < 1_310  # traded to the feed's new price (within the pool's fee)
    # A borrower borrowing 50-74% of its value at $2,000 with liquidation at 80% is under at $1,300
    # unless it borrowed under 52%: the report counts them from the chain.
    under = int(fell.stdout.splitlines()[-1].split("; ")[1].split()[0])
    assert under >= 3

    # It never signs with the keeper's account: a keeper running beside it would race it for nonces.
    assert on(node, networks, lambda chain: chain.provider.get_nonce(keeper_signer)) == nonce

    more = market(node, path, "--borrowers", "2")  # a second run adds borrowers after the first ones
    assert more.returncode == 0, more.stdout + more.stderr
    assert more.stdout.splitlines()[-1].startswith("6 borrowers;")
    assert "deposited" not in more.stdout and "opened:" not in more.stdout  # the market was already there


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--price", "DOGE=1"], "unknown asset 'DOGE'"),
        (["--price", "ETH=cheap"], "whole dollars"),
        (["--price", "ETH=0"], "above zero"),
        (["--borrowers", "-3"], "--borrowers"),
        (["--borrowers", "100000"], "--borrowers"),
        ([], "nothing to do"),
    ],
)
def test_a_bad_option_is_refused_in_one_line_before_anything_is_sent(local, networks, args, named):
    node, path, _ = local
    head = on(node, networks, lambda chain: chain.blocks.head.number)
    run = market(node, path, *args)
    assert run.returncode != 0
    errors = [line for line in (run.stdout + run.stderr).splitlines() if "Error" in line]
    assert len(errors) == 1 and named in errors[0], run.stdout + run.stderr
    assert on(node, networks, lambda chain: chain.blocks.head.number) == head  # nothing sent


def test_a_record_from_another_chain_is_refused(local, tmp_path):
    node, _, record = local
    other = tmp_path / "ethereum-local.json"
    addresses = {**record.addresses, "vault": "0x" + "11" * 20}
    DeploymentRecord(record.network, record.chain_id, record.start_block, addresses).write(other)
    run = market(node, other, "--borrowers", "1")
    assert run.returncode != 0
    assert "no Vault at 0x1111111111111111111111111111111111111111" in run.stdout + run.stderr
