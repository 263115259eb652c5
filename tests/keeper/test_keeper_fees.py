"""Keeper fees and nonces. Pure."""

import pytest

from bots.keeper.fees import FeeCapExceeded, Fees, NonceTracker, bumped, fees_for

pytestmark = pytest.mark.unit
GWEI = 10**9


def test_fees_leave_room_for_base_fee_rises_within_the_cap():
    assert fees_for(10 * GWEI, GWEI, 100 * GWEI) == Fees(21 * GWEI, GWEI)
    assert fees_for(60 * GWEI, GWEI, 100 * GWEI) == Fees(100 * GWEI, GWEI)  # capped
    # Kicks that fill eight blocks: the last must outlive eight rises of 12.5% (2.565x).
    assert fees_for(10 * GWEI, GWEI, 100 * GWEI, full_blocks=8) == Fees(25_657_840_000 + GWEI, GWEI)
    with pytest.raises(FeeCapExceeded, match="above the cap"):
        fees_for(100 * GWEI, GWEI, 100 * GWEI)


def test_replacement_raises_both_fees_by_an_eighth():
    assert bumped(Fees(80 * GWEI, 8 * GWEI), 200 * GWEI) == Fees(90 * GWEI, 9 * GWEI)
    assert bumped(Fees(1, 0), 10) == Fees(2, 1)  # at least one wei each
    with pytest.raises(FeeCapExceeded, match="replacing needs"):
        bumped(Fees(95 * GWEI, GWEI), 100 * GWEI)


def test_nonces():
    nonces = NonceTracker(5)
    assert (nonces.take(), nonces.take()) == (5, 6)
    nonces.release(6)  # never broadcast
    assert nonces.take() == 6
    nonces.release(5)  # not the last one: kept, it may be on the network
    assert nonces.next == 7
    nonces.resync(3)
    assert nonces.next == 7
    nonces.resync(9)
    assert nonces.take() == 9
