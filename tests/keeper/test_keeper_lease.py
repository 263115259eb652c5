"""The signer's lease, on a real redis-server: one holder at a time, released only by its
holder, and a worker whose lease is gone sends nothing (its nonces might already be another's).
The two-worker bot that relies on it is in test_keeper_process.py."""

import pytest

from bots.keeper.lease import LeaseLost, LocalLease, RedisLease
from bots.keeper.sender import Prepared


def test_one_holder_at_a_time_and_only_the_holder_releases(redis_server):
    a = RedisLease(f"{redis_server}/2", "0xABC", ttl=60)
    b = RedisLease(f"{redis_server}/2", "0xabc", ttl=60)  # the same signer, however it is spelt
    assert a.acquire(wait=0) and a.held()
    assert not b.acquire(wait=0.2) and not b.held()
    b.release()  # not its lease: nothing happens
    assert a.held()
    a.release()
    assert not a.held() and b.acquire(wait=0) and b.held()
    b.release()


def test_an_expired_lease_is_not_freed_by_its_old_holder(redis_server):
    a = RedisLease(f"{redis_server}/2", "0xdef", ttl=60)
    b = RedisLease(f"{redis_server}/2", "0xdef", ttl=60)
    assert a.acquire(wait=0)
    a.client.delete(a.key)  # as the expiry would, after a worker stalled past its ttl
    assert not a.held() and b.acquire(wait=0)
    a.release()  # the stalled worker lets go late: b keeps it
    assert b.held()
    b.release()


@pytest.mark.unit
def test_the_local_lease_is_a_lock():
    lease = LocalLease()
    assert lease.acquire(wait=0) and lease.held()
    assert not lease.acquire(wait=0)
    lease.release()
    assert not lease.held()


def test_a_worker_without_the_lease_sends_nothing(new_keeper, accounts, redis_server):
    keeper = new_keeper(accounts[8])
    keeper.sender.lease = RedisLease(f"{redis_server}/2", accounts[8].address, ttl=60)  # never acquired
    prepared = Prepared("cancel", "x", accounts[8].address, "0x", 21_000)
    nonce = accounts[8].nonce
    with pytest.raises(LeaseLost, match="no longer held"):
        keeper.sender.send_many([prepared], keeper.sender.fees_now())
    with pytest.raises(LeaseLost):
        keeper.sender.send(prepared, keeper.sender.fees_now())
    assert accounts[8].nonce == nonce and keeper.store.pending() == []
