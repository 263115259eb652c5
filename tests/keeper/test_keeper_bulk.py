"""Kicks in bulk, against Anvil: a crash's kicks are simulated in one eth_simulateV1 request (or,
on a node without it, one batch of eth_estimateGas), signed locally with consecutive nonces and
broadcast in one JSON-RPC batch, largest value at risk first; a restart never sends them again;
the watch list's kicks are simulated at a stressed price through feeds overridden in the
simulation; an oracle update still in the pool has the kicks it makes possible mined right behind
it in its own block. Signing matches eth-account's byte for byte."""

import pytest
from eth_abi.abi import decode
from eth_account import Account

from bots.keeper.core import STRESS_FEED_CODE, _slot
from bots.keeper.mempool import TxPool
from bots.keeper.rpc import RpcError
from bots.keeper.signing import LocalSigner, Unsigned
from bots.keeper.strategy import KickMode
from helpers import open_position

USDC = 10**6
ETH = 10**18


def crash(vault, weth, accounts, governor, eth_feed):
    """Three accounts opened at ETH 2,000 and pushed under at 1,600; returns them (lower-case),
    largest value at risk first."""
    eth_feed.setAnswer(2_000 * 10**8, sender=governor)
    people = []
    for who, collateral, debt in ((accounts[5], 10, 13_500), (accounts[6], 14, 19_800), (accounts[7], 12, 16_000)):
        weth.mint(who, collateral * ETH, sender=governor)
        weth.approve(vault, 2**256 - 1, sender=who)
        open_position(vault, who, weth, collateral * ETH, debt * USDC)
        people.append(who.address.lower())
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)
    return [people[1], people[0], people[2]]  # shortfalls 1,880, 700 and 640


def record_requests(keeper):
    """Every JSON-RPC body the keeper's own client posts, in order."""
    bodies = []
    post = keeper.rpc._post

    def spy(body, calls):
        bodies.append(body)
        return post(body, calls)

    keeper.rpc._post = spy
    return bodies


def methods(body):
    return [b["method"] for b in body] if isinstance(body, list) else [body["method"]]


@pytest.mark.parametrize("simulate_v1", [True, False], ids=["eth_simulateV1", "batched-estimateGas"])
def test_a_crash_is_kicked_in_one_simulation_and_one_batch(
    simulate_v1, new_keeper, chain, vault, weth, accounts, governor, eth_feed, liquidator
):
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS)
    keeper.tick()
    keeper.sender.simulate_v1 = None if simulate_v1 else False
    order = crash(vault, weth, accounts, governor, eth_feed)
    bodies = record_requests(keeper)
    nonce = accounts[8].nonce
    first = chain.blocks.head.number + 1  # the tick's first block, however many it mines

    report = keeper.tick()
    assert report.unhealthy == order and report.kicked == order
    simulations = [b for b in bodies if "eth_simulateV1" in methods(b) or "eth_estimateGas" in methods(b)]
    assert len(simulations) == 1
    assert methods(simulations[0]) == (["eth_simulateV1"] if simulate_v1 else ["eth_estimateGas"] * 3)
    sends = [b for b in bodies if "eth_sendRawTransaction" in methods(b)]
    assert len(sends) == 1 and methods(sends[0]) == ["eth_sendRawTransaction"] * 3
    kicks = list(vault.Liquidated.range(first, chain.blocks.head.number + 1))
    assert [k.account.lower() for k in kicks] == order  # mined in nonce order: largest first
    kick_nonces = [
        n for (n,) in keeper.store._db.execute("SELECT nonce FROM outbox WHERE kind = 'kick' ORDER BY nonce")
    ]
    assert kick_nonces == [nonce, nonce + 1, nonce + 2]  # then the claim of their incentives
    assert liquidator.kicks() == 3


def test_kicks_in_flight_are_not_sent_again_after_a_restart(
    new_keeper, chain, vault, weth, accounts, governor, eth_feed, liquidator
):
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS)
    keeper.tick()
    order = crash(vault, weth, accounts, governor, eth_feed)
    chain.provider.auto_mine = False
    try:
        assert keeper.tick().kicked == order  # in the pool, not mined
        restarted = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS)  # same store file
        report = restarted.tick()
        assert report.unhealthy == order and report.kicked == []
        chain.mine()
    finally:
        chain.provider.auto_mine = True
    assert liquidator.kicks() == 3


def test_the_watch_list_holds_kicks_simulated_at_the_stressed_price(
    new_keeper, vault, weth, accounts, governor, eth_feed, liquidator
):
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS, watch_sigmas=3.0, watch_rounds=1)
    eth_feed.setAnswer(2_000 * 10**8, sender=governor)
    near, far = accounts[5], accounts[6]
    for who, debt in ((near, 15_000), (far, 9_000)):  # under below $1,875 and $1,125
        weth.mint(who, 10 * ETH, sender=governor)
        weth.approve(vault, 2**256 - 1, sender=who)
        open_position(vault, who, weth, 10 * ETH, debt * USDC)
    keeper.volatility.prior = 0.03  # 3 sigma of 3% per round: a fall to about $1,828
    report = keeper.tick()
    assert report.unhealthy == [] and report.watch == 1 and report.watch_ready == 1
    block, prepared = keeper.watch[near.address.lower()]
    assert prepared.kind == "kick" and prepared.gas > 100_000
    assert far.address.lower() not in keeper.watch
    assert liquidator.kicks() == 0  # simulated, never sent


def test_the_stress_feed_answers_from_its_slots(chain, eth_feed):
    data = "0xfeaf968c"  # latestRoundData()
    override = {
        eth_feed.address: {"code": STRESS_FEED_CODE, "stateDiff": {_slot(0): _slot(1_234 * 10**8), _slot(1): _slot(77)}}
    }
    raw = chain.provider.make_request("eth_call", [{"to": eth_feed.address, "data": data}, "latest", override])
    raw = raw if isinstance(raw, str) else "0x" + bytes(raw).hex()
    assert decode(["uint80", "int256", "uint256", "uint256", "uint80"], bytes.fromhex(raw[2:])) == (
        1,
        1_234 * 10**8,
        77,
        77,
        1,
    )


@pytest.mark.unit
def test_local_signing_matches_eth_account():
    key = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
    ours = LocalSigner(key)
    assert ours.address == Account.from_key(key).address and "4c08" not in repr(ours)
    for nonce, data in ((0, "0x"), (7, "0x" + "ab" * 36), (2**20, "0x" + "00" * 4)):
        tx = Unsigned("0x" + "22" * 20, data, 300_000, nonce, 3 * 10**10, 10**9, 1337, value=5)
        reference = Account.sign_transaction(
            {
                "type": 2,
                "chainId": 1337,
                "nonce": nonce,
                "to": tx.to,
                "data": data,
                "gas": tx.gas,
                "maxFeePerGas": tx.max_fee,
                "maxPriorityFeePerGas": tx.priority_fee,
                "value": 5,
            },
            key,
        )
        signed = ours.sign(tx)
        assert signed.raw == bytes(reference.raw_transaction)
        assert signed.hash == "0x" + bytes(reference.hash).hex()


def test_kicks_land_in_the_same_block_right_after_a_pending_price_update(
    new_keeper, chain, vault, weth, accounts, governor, eth_feed, liquidator
):
    """The feed's setAnswer waits in the pool of a manually mined Anvil: the keeper finds the
    accounts it will put under, and its kicks are mined in that block, right after the update."""
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS)
    crash_data = eth_feed.setAnswer.encode_input(1_600 * 10**8)
    eth_feed.setAnswer(2_000 * 10**8, sender=governor)
    people = crash(vault, weth, accounts, governor, eth_feed)  # under at 1,600...
    eth_feed.setAnswer(2_000 * 10**8, sender=governor)  # ...but back at 2,000 for now
    keeper.tick()
    web3 = chain.provider.web3
    chain.provider.auto_mine = False
    try:
        update = web3.eth.send_transaction(
            {
                "from": governor.address,
                "to": eth_feed.address,
                "data": "0x" + bytes(crash_data).hex(),
                # Fees well under the keeper's own (2 x base fee + 1 gwei), so kicks sent at
                # those would be mined first, and revert.
                "maxFeePerGas": int(chain.blocks.head.base_fee) + 10**8,
                "maxPriorityFeePerGas": 10**8,
            }
        )
        report = keeper.tick()
        assert report.pending_updates == 1
        assert report.behind_update == people and report.kicked == people
        assert liquidator.kicks() == 0  # nothing mined yet
        again = keeper.tick()  # the same update, still pending: acted on once
        assert again.pending_updates == 0 and again.kicked == []
        chain.mine()
    finally:
        chain.provider.auto_mine = True
    block = web3.eth.get_block("latest", full_transactions=True)
    senders = [tx["from"] for tx in block.transactions]
    assert block.transactions[0]["hash"] == update
    assert senders == [governor.address] + [accounts[8].address] * 3  # right after it, in one block
    assert all(web3.eth.get_transaction_receipt(tx["hash"])["status"] == 1 for tx in block.transactions)
    assert liquidator.kicks() == 3
    kicked = [k.account.lower() for k in vault.Liquidated.range(block.number, block.number + 1)]
    assert kicked == people  # largest value at risk first


@pytest.mark.unit
def test_a_node_that_hides_its_pool_is_noticed_once():
    class NoPool:
        calls = 0

        def __call__(self, method, params):
            self.calls += 1
            raise RpcError(method, -32601, "Method not found")

    rpc = NoPool()
    pool = TxPool(rpc)
    assert pool.sent_to({"0x" + "11" * 20}) == [] and pool.available is False
    assert pool.sent_to({"0x" + "11" * 20}) == [] and rpc.calls == 1  # not asked again
