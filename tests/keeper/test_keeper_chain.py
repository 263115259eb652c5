"""The keeper when the chain under it is not the one it indexed, as its users run it: the CLI as
its own process, against a standalone Anvil that each test replaces on the same port.

- Anvil replaced by a fresh chain with the same chain id, Gavel redeployed at the same addresses
  from an earlier block: the running keeper says the chain was replaced, rebuilds its mirror from
  the new deployment block and kicks the accounts the new chain has under health 1.
- Replaced by a chain with another chain id: the keeper stops, non-zero, with one line naming both.
- A mirror file from before the restart does not block the next run: it is rebuilt, with one
  warning; a file of another chain id or Vault stops the keeper with one line naming the file."""

from __future__ import annotations

import pytest
from test_keeper_process import BIN, deploy_with_borrowers, keeper_env, on_node, set_eth_price

from bots.keeper.store import Store
from processes import PATIENCE, Node, Process, wait_for

OLD_CHAIN_BLOCKS = 300  # mined before the first deployment: the redeployment lands far below it


@pytest.fixture
def node(tmp_path):
    node = Node(tmp_path)
    node.start()
    yield node
    node.stop()


def deploy(node, networks, project, accounts, folder, mine_first: int = 0) -> dict:
    """Gavel and its three borrowers on the node (after `mine_first` empty blocks), recorded in
    `folder`/deployments.json, as `ape run deploy` would record it."""
    if mine_first:
        on_node(node, networks, lambda chain: chain.provider.make_request("anvil_mine", [hex(mine_first)]))
    path = folder / "deployments.json"
    record = deploy_with_borrowers(node, networks, project, accounts, path)
    return {"path": path, "record": record, "folder": folder}


def replace_chain(node, folder, chain_id: int = 1337) -> None:
    """Stop Anvil and start a fresh chain on the same port: no state from the old one."""
    node.stop()
    node.chain_id, node.state = chain_id, folder / "replacement-state.json"
    node.start()


def keeper(node, deployment, *args: str) -> Process:
    argv = [str(BIN / "python"), "-m", "bots.keeper", "run", "--network", node.network, *args]
    return Process(argv, keeper_env(deployment, "keeper.sqlite"))


def last_words(process: Process) -> str:
    """The one line the CLI printed on its way out (after every log line), with no traceback."""
    (line,) = [line for line in process.lines if line.startswith("gavel keeper:")]
    assert process.lines[-1] == line and not any("Traceback" in x for x in process.lines), process.output()
    return line


def test_a_replaced_chain_is_rebuilt_from_the_new_deployment_block_and_kicked(
    node, tmp_path, networks, project, accounts
):
    old = deploy(node, networks, project, accounts, tmp_path, mine_first=OLD_CHAIN_BLOCKS)
    running = keeper(node, old)
    try:
        wait_for(lambda: any(t["accounts"] == 3 for t in running.logs("heartbeat")), "the first full tick", running)

        replace_chain(node, tmp_path)
        new = deploy(node, networks, project, accounts, tmp_path)
        assert new["record"].addresses == old["record"].addresses  # Anvil's deterministic addresses
        assert new["record"].start_block < old["record"].start_block
        set_eth_price(node, networks, project, accounts, new, 1_450)  # the 14,000 and 12,000 USDC loans go under

        under = {accounts[5].address.lower(), accounts[6].address.lower()}
        kicked = lambda: {a for t in running.logs("tick") for a in t.get("kicked", [])}  # noqa: E731
        wait_for(lambda: under <= kicked(), "the kicks of both accounts under on the new chain", running)
    finally:
        code = running.stop()
    assert code == 0, running.output()
    replaced = running.logs(prefix="the chain was replaced")
    assert len(replaced) == 1 and replaced[0]["level"] == "WARNING"
    assert f"rebuilding the mirror from block {new['record'].start_block}," in replaced[0]["message"]
    entries = running.logs()
    after = next(i for i, e in enumerate(entries) if e["message"].startswith("the chain was replaced"))
    rebuilt = [e for e in entries[after:] if e["message"] == "tick"]
    beats = [e for e in entries[after:] if e["message"] == "heartbeat"]
    assert rebuilt[0].get("rebuilt") and beats[0]["accounts"] == 3  # every borrower, from the new deployment block


def test_another_chain_id_stops_the_keeper_with_one_line(node, tmp_path, networks, project, accounts):
    deployment = deploy(node, networks, project, accounts, tmp_path)
    running = keeper(node, deployment)
    try:
        wait_for(lambda: running.logs("heartbeat"), "the first tick", running)
        replace_chain(node, tmp_path, chain_id=31337)
        wait_for(lambda: running.popen.poll() is not None, "the keeper to stop on chain 31337", running)
    finally:
        code = running.stop()
    assert code != 0
    assert last_words(running) == "gavel keeper: chain id is now 31337, the keeper indexed 1337: stopping"
    assert not any(t.get("kicked") for t in running.logs("tick"))


def test_a_mirror_from_before_a_restart_is_rebuilt_and_one_of_another_deployment_stops(
    node, tmp_path, networks, project, accounts
):
    old = deploy(node, networks, project, accounts, tmp_path, mine_first=OLD_CHAIN_BLOCKS)
    first = keeper(node, old, "--ticks", "2")
    assert first.popen.wait(PATIENCE) == 0, first.output()

    replace_chain(node, tmp_path)
    new = deploy(node, networks, project, accounts, tmp_path)
    again = keeper(node, new, "--ticks", "2")
    assert again.popen.wait(PATIENCE) == 0, again.output()
    database = tmp_path / "keeper.sqlite"
    (warning,) = again.logs(prefix=str(database))
    assert warning["level"] == "WARNING" and "of an earlier chain" in warning["message"]
    assert f"start_block is {old['record'].start_block} not {new['record'].start_block}" in warning["message"]
    assert again.logs("heartbeat")[0]["accounts"] == 3

    vault = new["record"].addresses["vault"]
    for chain_id, vault_of_the_file, wrong in (
        (31337, vault, "chain_id is 31337 not 1337"),
        (1337, "0x" + "cd" * 20, "vault is"),
    ):
        database.unlink()
        Store(database, chain_id, vault_of_the_file, new["record"].start_block).close()
        refused = keeper(node, new, "--ticks", "1")
        assert refused.popen.wait(PATIENCE) == 2, refused.output()
        line = last_words(refused)
        assert line.startswith(f"gavel keeper: {database} holds the mirror of another deployment ({wrong}")
        assert f"delete {database}, or point `database` (--database on the CLI" in line
