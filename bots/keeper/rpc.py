"""A plain JSON-RPC client over HTTP: one call, or many in one batch request (one round trip).

The keeper's hot paths (log fetching, batched simulation) speak JSON-RPC directly instead of
through Ape's contract objects, which add requests (`eth_getCode`, extra blocks) to every call."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import requests


class RpcError(Exception):
    """The node answered a request with a JSON-RPC error; the message is the node's."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: {message} (code {code})")
        self.method, self.code, self.message, self.data = method, code, message, data


class HttpJsonRpc:
    """JSON-RPC 2.0 over HTTP to `url`. `requests` counts every HTTP request sent."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url, self.timeout = url, timeout
        self._session = requests.Session()
        self._ids = itertools.count(1)
        self.requests = 0

    def __call__(self, method: str, params: list[Any]) -> Any:
        return self._post({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}, method)

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Results in the order of `calls`, each the result or an RpcError (not raised: one
        failing call must not hide the others' answers)."""
        if not calls:
            return []
        first = next(self._ids)
        body = [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        self._ids = itertools.count(first + len(calls))
        self.requests += 1
        response = self._session.post(self.url, json=body, timeout=self.timeout)
        response.raise_for_status()
        answers = {a["id"]: a for a in response.json()}
        out: list[Any] = []
        for i, (method, _) in enumerate(calls):
            answer = answers.get(first + i)
            if answer is None:
                out.append(RpcError(method, -1, "no answer in the batch"))
            elif "error" in answer:
                err = answer["error"]
                out.append(RpcError(method, err.get("code", 0), err.get("message", ""), err.get("data")))
            else:
                out.append(answer["result"])
        return out

    def _post(self, body: dict[str, Any], method: str) -> Any:
        self.requests += 1
        response = self._session.post(self.url, json=body, timeout=self.timeout)
        response.raise_for_status()
        answer = response.json()
        if "error" in answer:
            err = answer["error"]
            raise RpcError(method, err.get("code", 0), err.get("message", ""), err.get("data"))
        return answer["result"]
