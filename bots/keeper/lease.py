"""Who may tick (and so send) for a signer right now. One process needs only its own lock; several
Silverback workers on a broker share one signer, so they take turns through a lease held in Redis:
a key set only if absent, with an expiry (a worker that dies holding it frees it after `ttl`),
released only by its holder. While a worker holds the lease it syncs, screens and sends, so two
workers never pick the same nonce, and each sees in the shared outbox what the other sent."""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any, Protocol

# Delete the key only if it still holds our token: never free a lease another worker took after
# ours expired.
RELEASE = """
if redis.call("get", KEYS[1]) == ARGV[1] then
    return redis.call("del", KEYS[1])
end
return 0
"""


class LeaseLost(Exception):
    """The lease expired (or was taken) while this worker still meant to send."""


class Lease(Protocol):
    def acquire(self, wait: float) -> bool:
        """True once held; False after waiting `wait` seconds without getting it."""
        ...

    def release(self) -> None: ...

    def held(self) -> bool:
        """Still ours (checked before every send)."""
        ...


class LocalLease:
    """One process: a lock (ticks of the same signer never overlap)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    def acquire(self, wait: float) -> bool:
        got = self._lock.acquire(timeout=wait) if wait > 0 else self._lock.acquire(blocking=False)
        if got:
            self._owner = threading.get_ident()
        return got

    def release(self) -> None:
        self._owner = None
        self._lock.release()

    def held(self) -> bool:
        return self._owner == threading.get_ident()


class RedisLease:
    """The lease on `name` in the Redis at `url`, for `ttl` seconds at most per hold."""

    def __init__(self, url: str, name: str, ttl: float = 120.0, client: Any = None) -> None:
        if client is None:
            import redis  # only the distributed bot needs it

            client = redis.Redis.from_url(url)
        self.client, self.key, self.ttl_ms = client, f"gavel:lease:{name.lower()}", int(ttl * 1000)
        self._token: str | None = None
        self._release = self.client.register_script(RELEASE)

    def acquire(self, wait: float) -> bool:
        token = secrets.token_hex(16)
        deadline = time.monotonic() + wait
        while True:
            if self.client.set(self.key, token, nx=True, px=self.ttl_ms):
                self._token = token
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def release(self) -> None:
        if self._token is not None:
            self._release(keys=[self.key], args=[self._token])
            self._token = None

    def held(self) -> bool:
        if self._token is None:
            return False
        value = self.client.get(self.key)
        return value is not None and value.decode() == self._token
