"""Silverback's Redis broker as docs/keeper.md configures it: a worker waiting for blocks blocks in
BRPOP, and redis-py 8 gives every socket read a 5-second timeout by default, so a worker that
waited longer than that for its first block (a `silverback run` slow to start on a loaded
machine) died with `TimeoutError: Timeout reading from ...`. The documented kwargs turn that timeout
off; this holds them to it."""

from __future__ import annotations

import asyncio
import json
import re

from taskiq_redis import ListQueueBroker

from scripts._deployment import ROOT

IDLE = 6.5  # [s] longer than redis-py's default socket timeout (5 s)
PATIENCE = 120  # [s] the most a failing worker is waited for: it fails after about 5 s


def _documented_broker_kwargs(url: str) -> dict:
    text = (ROOT / "docs" / "keeper.md").read_text()
    (kwargs,) = re.findall(r"SILVERBACK_BROKER_KWARGS='(\{.*?\})'", text)
    return json.loads(kwargs) | {"url": url}


def _still_listening(kwargs: dict, idle: float) -> bool:
    """Whether a worker with these broker `kwargs` still waits for a block after `idle` seconds
    with none (False as soon as it fails)."""

    async def listen() -> bool:
        broker = ListQueueBroker(**kwargs)
        try:
            await asyncio.wait_for(broker.listen().__anext__(), idle)
        except TimeoutError:
            return True  # nothing came, and the worker is still waiting for it
        finally:
            await broker.shutdown()
        return True

    try:
        return asyncio.run(listen())
    except Exception:  # noqa: BLE001 - redis' TimeoutError is the failure this looks for
        return False


def test_a_worker_waits_for_its_first_block_as_long_as_it_takes(redis_server):
    kwargs = _documented_broker_kwargs(f"{redis_server}/0")
    assert kwargs.get("socket_timeout", 0) is None
    assert _still_listening(kwargs, IDLE)
    assert not _still_listening({"url": f"{redis_server}/0"}, PATIENCE)  # redis-py's default: it dies
