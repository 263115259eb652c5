"""The keeper against Anvil: it finds the account a price drop pushes under, kicks it within
two blocks of the price update, and takes the auction through the flash taker for a profit with
no capital of its own. In dry-run mode it sends nothing and says what it would send."""

import logging
from types import SimpleNamespace

import pytest

from bots.keeper.status import short_id
from bots.keeper.store import PENDING, SentTx
from bots.keeper.strategy import KickMode, gas_floor
from bots.keeper.units import gas_cost_in_debt_down
from helpers import BUF, CUSP, TAIL, WAD, at, live_auctions, open_position
from money import wmul_up

USDC = 10**6
ETH = 10**18


class Mining:
    """After `manual()`, blocks are mined only on `mine()`, and transactions wait in the pool."""

    def __init__(self, chain):
        self.rpc = chain.provider.web3.provider.make_request

    def manual(self):
        self.rpc("evm_setAutomine", [False])

    def auto(self):
        self.rpc("evm_setAutomine", [True])

    def mine(self):
        self.rpc("evm_mine", [])


@pytest.fixture
def mining(chain):
    yield Mining(chain)
    Mining(chain).auto()


def three_borrowers(vault, weth, accounts, governor):
    borrowers = [accounts[3], accounts[6], accounts[7]]
    for who, debt in zip(borrowers, (14_000, 12_000, 8_000), strict=True):
        if who != accounts[3]:
            weth.mint(who, 10 * ETH, sender=governor)
            weth.approve(vault, 2**256 - 1, sender=who)
        open_position(vault, who, weth, 10 * ETH, debt * USDC)
    return borrowers


def test_keeper_kicks_within_two_blocks_and_takes_for_a_profit(
    new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed
):
    signer = accounts[8]  # holds no USDC: it takes through the flash taker
    keeper = new_keeper(signer, kick_mode=KickMode.ALWAYS)
    borrowers = three_borrowers(vault, weth, accounts, governor)
    report = keeper.tick()
    assert report.accounts == 3 and report.unhealthy == [] and report.kicked == []

    update = eth_feed.setAnswer(1_700 * 10**8, sender=governor)  # only the 14,000 USDC loan goes under
    report = keeper.tick()
    assert report.unhealthy == [borrowers[0].address.lower()] and report.kicked == report.unhealthy
    (auction_id,) = live_auctions(liquidator)
    kick_block = liquidator.Kick.query("block_number").block_number.iloc[-1]
    assert kick_block - update.block_number <= 2

    at(chain, chain.blocks.head.timestamp + 900)  # the price decays below the pool's
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    report = keeper.tick()
    assert report.taken == [auction_id] and report.profit > 0
    assert usdc.balanceOf(signer) >= report.profit // 2  # the taker keeps at least half its plan
    assert liquidator.getStatus(auction_id).lot == 0  # the tab is paid, the auction ended


def test_no_take_of_an_auction_that_would_need_a_redo_by_the_time_it_is_mined(
    new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed
):
    """Ten seconds before the tail (two hours: the price has held at its floor since) a take would
    pay, but on a real network it may be mined after the tail has passed, and revert
    `AuctionNeedsRedo`: the keeper waits, and redoes the auction once it may. Without the look
    ahead the same take is sent."""
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS)
    three_borrowers(vault, weth, accounts, governor)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    keeper.tick()
    (auction_id,) = live_auctions(liquidator)
    kicked_at = liquidator.auctionView(auction_id).startedAt
    for lookahead, taken in ((24, []), (0, [auction_id])):
        snapshot = chain.snapshot()  # (a revert uses a snapshot up)
        keeper = new_keeper(accounts[8], name=f"lookahead{lookahead}", take_lookahead_seconds=lookahead)
        at(chain, kicked_at + TAIL - 11)
        eth_feed.setAnswer(1_700 * 10**8, sender=governor)  # mined then: the keeper ticks a second later
        report = keeper.tick()
        assert report.taken == taken and report.redone == []
        chain.restore(snapshot)
    keeper = new_keeper(accounts[8], name="later")
    at(chain, kicked_at + TAIL + 1)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    assert keeper.tick().redone == [auction_id]


def test_dry_run_sends_nothing(new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed):
    signer = accounts[8]
    keeper = new_keeper(
        signer,
        kick_mode=KickMode.ALWAYS,
        dry_run=True,
    )
    three_borrowers(vault, weth, accounts, governor)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    nonce = signer.nonce
    report = keeper.tick()
    assert report.would_send == [f"kick {accounts[3].address.lower()}"]
    assert report.kicked == [] and liquidator.kicks() == 0 and signer.nonce == nonce


def test_profit_mode_skips_kicks_that_do_not_pay(
    new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed
):
    signer = accounts[8]
    keeper = new_keeper(signer, kick_take_bps=0)  # counting nothing from the take
    three_borrowers(vault, weth, accounts, governor)
    liquidator.setIncentive(0, 0, sender=governor)  # kicking now pays nothing, and gas is not free
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    report = keeper.tick()
    assert len(report.unhealthy) == 1 and report.kicked == [] and liquidator.kicks() == 0
    assert report.declined_kicks == 1
    # Counting the default 0.5% of the tab it expects from taking the auction, the same kick pays.
    report = new_keeper(signer, name="counting").tick()
    assert report.kicked == report.unhealthy and liquidator.kicks() == 1


def test_a_kick_that_keeps_not_paying_is_one_line_not_one_a_tick(
    new_keeper, chain, vault, liquidator, weth, accounts, governor, eth_feed, caplog
):
    keeper = new_keeper(accounts[8], kick_take_bps=0)
    three_borrowers(vault, weth, accounts, governor)
    liquidator.setIncentive(0, 0, sender=governor)  # kicking pays nothing, tick after tick
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    caplog.set_level(logging.INFO, logger="gavel.keeper")
    for _ in range(3):
        assert keeper.tick().declined_kicks == 1
    said = [r for r in caplog.records if "not worth it" in r.getMessage() and r.levelno >= logging.INFO]
    assert len(said) == 1
    liquidator.setIncentive(1_000 * USDC, 0, sender=governor)  # now it pays: kicked, and the condition ends
    assert keeper.tick().kicked


def test_a_lost_race_costs_no_gas(
    new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed, keeper
):
    signer = accounts[8]
    # One confirmation: the mirror trails the head by a block, as a cautious keeper's does.
    bot = new_keeper(
        signer,
        kick_mode=KickMode.ALWAYS,
        confirmations=1,
    )
    borrowers = three_borrowers(vault, weth, accounts, governor)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)  # deep: one kick closes it all
    vault.liquidate(borrowers[0], sender=keeper)  # a rival keeper gets there first, in the head block
    nonce = signer.nonce
    report = bot.tick()
    assert report.unhealthy == [borrowers[0].address.lower()]  # the mirror has not seen the rival yet
    assert report.kicked == [] and report.lost_races == 1
    assert signer.nonce == nonce  # the simulation caught it: nothing was sent


def test_its_own_mined_kick_is_not_tried_again_before_the_mirror_sees_it(
    new_keeper, chain, vault, liquidator, weth, accounts, governor, eth_feed
):
    """Two confirmations: the mirror trails the head by two blocks. The keeper's own kick is mined
    at once (automine), and on the next ticks the book still shows the account as it was; the
    keeper must not simulate that kick again and call its NotLiquidatable a lost race (no other
    keeper runs), but wait until the mirror has indexed its kick."""
    signer = accounts[8]
    keeper = new_keeper(signer, kick_mode=KickMode.ALWAYS, confirmations=2)
    borrowers = three_borrowers(vault, weth, accounts, governor)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)  # deep: one kick closes it all
    chain.mine(2)  # the update is confirmed
    assert keeper.tick().kicked == [borrowers[0].address.lower()]
    nonce = signer.nonce
    for _ in range(2):  # the mirror still trails the kick's block
        report = keeper.tick()
        assert report.lost_races == 0 and report.errors == [] and report.kicked == []
    chain.mine(2)
    report = keeper.tick()  # the kick is indexed: the account is in auction, not unhealthy
    assert report.unhealthy == [] and report.lost_races == 0
    assert signer.nonce == nonce + len(report.taken) + len(report.redone)  # no second kick sent


def test_a_take_that_would_revert_for_its_own_reason_is_an_error_with_that_reason_not_a_lost_race(
    new_keeper, chain, vault, liquidator, weth, accounts, governor, guardian, eth_feed, caplog
):
    """No other keeper runs: the take reverts because the breaker stops takes. The log and the
    report say so, with the auction's short id, and it is not counted as a race lost."""
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS)
    three_borrowers(vault, weth, accounts, governor)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    assert keeper.tick().kicked
    (auction_id,) = live_auctions(liquidator)
    at(chain, chain.blocks.head.timestamp + 900)  # the price decays below the pool's: a take pays
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    liquidator.setBreaker(3, sender=guardian)  # no takes
    caplog.set_level(logging.INFO, logger="gavel.keeper")
    report = keeper.tick()
    assert report.taken == [] and report.lost_races == 0
    take = f"take {short_id(auction_id)} would revert: BreakerActive(level=3)"
    assert take in report.errors
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == report.errors
    assert not [r for r in caplog.records if str(auction_id) in r.getMessage()]  # the id in its short form


def test_a_kick_sent_before_a_restart_is_not_sent_again(
    new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed
):
    signer = accounts[8]
    first = new_keeper(signer, kick_mode=KickMode.ALWAYS)
    borrowers = three_borrowers(vault, weth, accounts, governor)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    # The process recorded a kick and died before it was mined: the outbox holds the unused nonce.
    call = vault.liquidate.encode_input(borrowers[0])
    first.store.record_sent(
        SentTx(
            signer.nonce,
            "kick",
            borrowers[0].address,
            ("0x" + "de" * 32,),
            10**11,
            10**9,
            chain.blocks.head.number,
            0,
            PENDING,
            vault.address,
            "0x" + bytes(call).hex(),
            900_000,
        )
    )
    first.store.close()
    restarted = new_keeper(signer, kick_mode=KickMode.ALWAYS)
    report = restarted.tick()
    assert report.unhealthy == [borrowers[0].address.lower()] and report.kicked == []
    assert liquidator.kicks() == 0


def test_two_keepers_racing_one_wins_the_other_sends_nothing(
    new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed, mining
):
    first, second = accounts[8], accounts[9]
    a = new_keeper(first, "a", kick_mode=KickMode.ALWAYS)
    b = new_keeper(second, "b", kick_mode=KickMode.ALWAYS)
    borrowers = three_borrowers(vault, weth, accounts, governor)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)  # deep: one kick closes it all
    mining.manual()
    nonce_b = second.nonce
    # Both see the account go under in the same block; a's kick is in the pool when b looks.
    assert a.tick().kicked == [borrowers[0].address.lower()]
    report = b.tick()
    assert report.unhealthy == [borrowers[0].address.lower()] and report.kicked == [] and report.lost_races == 1
    mining.mine()
    (auction_id,) = live_auctions(liquidator)

    mining.auto()
    at(chain, chain.blocks.head.timestamp + 900)  # the price decays below the pool's: both want it
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)
    mining.manual()
    assert a.tick().taken == [auction_id]
    report = b.tick()
    assert report.taken == [] and report.lost_races == 1
    mining.mine()
    assert a.tick().profit > 0 and liquidator.getStatus(auction_id).lot == 0
    assert second.nonce == nonce_b  # the loser sent nothing at all, so nothing of its reverted
    for number in range(chain.blocks.head.number - 4, chain.blocks.head.number + 1):
        for tx in chain.blocks[number].transactions:
            assert chain.provider.get_receipt(tx.txn_hash.hex()).status == 1


def test_a_stuck_kick_is_replaced_at_the_same_nonce(
    new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed, mining
):
    signer = accounts[8]
    keeper = new_keeper(signer, kick_mode=KickMode.ALWAYS, replace_after_blocks=2)
    borrowers = three_borrowers(vault, weth, accounts, governor)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    mining.manual()
    nonce = signer.nonce
    assert keeper.tick().kicked == [borrowers[0].address.lower()]
    (stuck,) = keeper.store.pending()
    rpc = chain.provider.web3.provider.make_request
    for _ in range(2):  # the base fee jumps above what the kick offered: it sits in the pool
        rpc("anvil_setNextBlockBaseFeePerGas", [hex(stuck.max_fee + 1)])
        mining.mine()
    assert liquidator.kicks() == 0 and signer.nonce == nonce

    report = keeper.tick()
    assert report.replaced == 1 and report.kicked == []  # the same kick, not a second one
    (replacement,) = keeper.store.pending()
    assert replacement.nonce == stuck.nonce and replacement.hashes[0] == stuck.hashes[0]
    assert replacement.max_fee > stuck.max_fee + 1 and replacement.priority_fee > stuck.priority_fee
    mining.mine()
    assert liquidator.kicks() == 1 and signer.nonce == nonce + 1
    assert chain.provider.get_receipt(replacement.hashes[-1]).status == 1
    keeper.tick()  # settles it (a partial kick may leave room for a further one, at the next nonce)
    assert all(tx.nonce != stuck.nonce for tx in keeper.store.pending())


def test_a_keeper_with_inventory_pays_from_its_own_balance(
    new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed
):
    signer = accounts[9]
    usdc.mint(signer, 50_000 * USDC, sender=governor)
    keeper = new_keeper(signer, kick_mode=KickMode.ALWAYS, use_flash_taker=False)
    borrowers = three_borrowers(vault, weth, accounts, governor)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)  # deep: one kick closes it all
    assert keeper.tick().kicked == [borrowers[0].address.lower()]
    (auction_id,) = live_auctions(liquidator)
    assert usdc.allowance(signer, vault) == 0  # nothing worth taking yet, so no approval yet

    at(chain, chain.blocks.head.timestamp + 900)  # the price decays below the pool's
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)
    report = keeper.tick()  # approves the Vault (which pulls a take's payment), then takes in the same tick
    assert report.taken == [auction_id] and report.profit > 0
    assert usdc.allowance(signer, vault) == 2**256 - 1
    (take,) = liquidator.Take.query("*", start_block=chain.blocks.head.number).itertuples()
    bought, paid = take.event_arguments["bought"], take.event_arguments["paid"]
    assert take.event_arguments["receiver"] == signer.address  # it keeps the collateral
    since = chain.blocks.head.number - 10  # the kick and the take are the last few blocks
    incentive = sum(
        e.event_arguments["paid"]
        for e in liquidator.IncentiveClaimed.query("*", start_block=since).itertuples()
        if e.event_arguments["keeper"] == signer.address
    )
    assert incentive > 0 and liquidator.claimable(signer) == 0  # the keeper claimed its kick's credit
    assert weth.balanceOf(signer) == bought and usdc.balanceOf(signer) == 50_000 * USDC - paid + incentive


def test_a_keeper_sharing_its_mirror_reads_what_the_other_indexed(
    new_keeper, vault, weth, accounts, governor, eth_feed
):
    """Two workers on one mirror file: what one indexed, the other's book catches up on (it never
    saw those events itself: its checkpoint had already moved)."""
    first = new_keeper(accounts[8], name="shared", dry_run=True)
    second = new_keeper(accounts[8], name="shared", dry_run=True)  # the same file
    first.tick(), second.tick()
    who = accounts[6]
    weth.mint(who, 10 * ETH, sender=governor)
    weth.approve(vault, 2**256 - 1, sender=who)
    open_position(vault, who, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    assert first.tick().unhealthy == [who.address.lower()]  # it indexed the new account
    report = second.tick()
    assert report.sync.events == 0  # nothing left for it to index...
    assert report.unhealthy == [who.address.lower()]  # ...yet its book has the account


def test_an_account_waiting_for_its_own_auction_is_not_reported_unhealthy(
    new_keeper, chain, vault, liquidator, weth, borrower, keeper, accounts, governor, eth_feed
):
    """An auction gave debt back to an account that holds nothing while another auction of its own
    still sells: the Vault refuses to kick it (AuctionsLive) until that one ends, so the keeper
    neither counts it as unhealthy nor tries to kick it."""
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    vault.liquidate(borrower, sender=keeper)  # half: auction A
    eth_feed.setAnswer(1_300 * 10**8, sender=governor)
    tx = vault.liquidate(borrower, sender=keeper)  # the rest: auction B
    (second,) = [log.id for log in tx.events.filter(liquidator.Kick)]
    eth_feed.setAnswer(1_200 * 10**8, sender=governor)
    at(chain, chain.blocks[tx.block_number].timestamp + 328)
    liquidator.take(second, 5 * ETH, 2**256 - 1, keeper, b"", sender=keeper)  # sells out short
    assert vault.debtOf(borrower) > 0 and vault.auctionsOf(borrower) == 1
    report = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS, dry_run=True).tick()
    assert borrower.address.lower() not in report.unhealthy
    assert not [w for w in report.would_send if w.startswith("kick")]


def test_a_take_that_pays_less_than_its_gas_is_not_sent(
    new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed
):
    """The take weighs its gas as a kick weighs its incentive: at 5,000 gwei the auction's
    discount does not pay for the take's gas, so the keeper leaves it (and says so); at a normal
    base fee the same take is sent."""
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS, max_fee_gwei=100_000.0)
    three_borrowers(vault, weth, accounts, governor)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    assert len(keeper.tick().kicked) == 1
    (auction_id,) = live_auctions(liquidator)
    rpc = chain.provider.web3.provider.make_request
    at(chain, chain.blocks.head.timestamp + 900)
    rpc("anvil_setNextBlockBaseFeePerGas", [hex(5_000 * 10**9)])
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)  # mined at 5,000 gwei: the head the keeper prices gas at
    report = keeper.tick()
    assert report.taken == [] and report.declined_takes == 1 and report.errors == []
    assert liquidator.getStatus(auction_id).lot > 0

    rpc("anvil_setNextBlockBaseFeePerGas", [hex(10**9)])
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    report = keeper.tick()
    assert report.taken == [auction_id] and report.declined_takes == 0


def lot_on_its_floor_in_congestion(
    new_keeper, chain, vault, liquidator, weth, accounts, governor, eth_feed, next_base_fee
):
    """One auction on its floor (ETH at $1,700) with a gas asset, the head mined at 5,000 gwei:
    (keeper, auction id)."""
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS, max_fee_gwei=100_000.0)
    three_borrowers(vault, weth, accounts, governor)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    assert len(keeper.tick().kicked) == 1
    (auction_id,) = live_auctions(liquidator)
    liquidator.setGasAsset(weth, sender=governor)
    at(chain, chain.blocks.head.timestamp + 900)  # on its floor
    next_base_fee(5_000 * 10**9)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)  # mined at 5,000 gwei: 11% under the floor
    return keeper, auction_id


def test_in_congestion_the_keeper_takes_a_lot_below_its_floor(
    new_keeper, chain, vault, liquidator, weth, accounts, governor, eth_feed, next_base_fee
):
    """With a gas asset, a lot on its floor goes below it by its take's unpaid gas at the base fee,
    and that price moves with the base fee from block to block: the keeper plans at the head's,
    and its take is mined at a later block's, lower here, so the lot costs more than planned (at
    exactly the planned price: PriceAboveMax, a lost race). Its flash take may pay up to 5% above
    the planned price (its minimum profit still holds): the lot sells, below its floor."""
    keeper, auction_id = lot_on_its_floor_in_congestion(
        new_keeper, chain, vault, liquidator, weth, accounts, governor, eth_feed, next_base_fee
    )
    first = chain.blocks.head.number + 1  # the tick's first block
    report = keeper.tick()
    assert report.taken == [auction_id] and report.lost_races == 0 and report.errors == []
    (take,) = list(liquidator.Take.range(first, chain.blocks.head.number + 1))
    assert take.price < wmul_up(wmul_up(1_700 * WAD, BUF), CUSP)


def test_the_keeper_prices_a_lot_below_its_floor_as_the_liquidator_does(
    new_keeper, chain, vault, liquidator, weth, accounts, governor, eth_feed, next_base_fee
):
    """The keeper's `gas_floor` is the liquidator's `_gasFloor`: Anvil's view of a lot on its
    floor at 5,000 gwei holds it. A node that runs calls at a base fee of 0 (geth, reth) shows the
    lot on the floor itself; such a view gets the part here, at the lowest base fee the next block
    can have (an eighth under the head's), never more than the chain takes off."""
    keeper, auction_id = lot_on_its_floor_in_congestion(
        new_keeper, chain, vault, liquidator, weth, accounts, governor, eth_feed, next_base_fee
    )
    base_fee = int(chain.blocks.head.base_fee)
    view = liquidator.auctionView(auction_id)
    floor = wmul_up(wmul_up(1_700 * WAD, BUF), CUSP)
    gas = gas_cost_in_debt_down(100_000, base_fee, 1_700 * WAD, USDC)
    assert view.price == gas_floor(floor, gas, view.lot, ETH, USDC) < floor

    keeper.tick()  # reads this tick's prices and base fee
    at_zero = SimpleNamespace(price=floor, top=view.top, account=view.account, collateral=view.collateral, lot=view.lot)
    seen = keeper._price_seen(at_zero)
    low = gas_cost_in_debt_down(100_000, base_fee * 7 // 8, 1_700 * WAD, USDC)
    assert seen == gas_floor(floor, low, view.lot, ETH, USDC)
    assert view.price < seen < floor
