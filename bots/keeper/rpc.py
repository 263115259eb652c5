"""A plain JSON-RPC client over HTTP, for a JSON-RPC endpoint other than Ape's provider (a test's
server that refuses large `eth_getLogs` answers; a separate log provider)."""

from __future__ import annotations

import itertools
from typing import Any

import requests


class RpcError(Exception):
    """The node answered a request with a JSON-RPC error; the message is the node's."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: {message} (code {code})")
        self.method, self.code, self.message, self.data = method, code, message, data


class HttpJsonRpc:
    """JSON-RPC 2.0 over HTTP to `url`."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url, self.timeout = url, timeout
        self._session = requests.Session()
        self._ids = itertools.count(1)

    def __call__(self, method: str, params: list[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        response = self._session.post(self.url, json=body, timeout=self.timeout)
        response.raise_for_status()
        answer = response.json()
        if "error" in answer:
            err = answer["error"]
            raise RpcError(method, err.get("code", 0), err.get("message", ""), err.get("data"))
        return answer["result"]
