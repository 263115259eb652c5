"""A plain JSON-RPC client over HTTP: one request, or many in one JSON-RPC batch (one round trip
for a tick's reads, a crash's simulations or its raw transactions). Also used for a JSON-RPC
endpoint other than Ape's provider (a test's server that refuses large `eth_getLogs` answers)."""

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
    """JSON-RPC 2.0 over HTTP to `url`. `requests` counts the HTTP requests sent and `calls` the
    JSON-RPC calls in them (a batch is one request of many calls)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url, self.timeout = url, timeout
        self._session = requests.Session()
        self._ids = itertools.count(1)
        self.requests = 0
        self.calls = 0

    def __call__(self, method: str, params: list[Any]) -> Any:
        answer = self._post({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}, 1)
        return _result(method, answer)

    def batch(self, calls: list[tuple[str, list[Any]]], chunk: int = 1_000) -> list[Any]:
        """Each call's result, in order, or the RpcError it got: one failing call (a simulation
        that reverts) never fails the others. Sent `chunk` calls per HTTP request."""
        out: list[Any] = []
        for first in range(0, len(calls), chunk):
            part = calls[first : first + chunk]
            ids = [next(self._ids) for _ in part]
            body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in zip(ids, part, strict=True)]
            answers = self._post(body, len(part))
            if not isinstance(answers, list):  # a node that refuses batches answers with one error
                raise RpcError("batch", 0, str(answers.get("error", answers)))
            by_id = {a.get("id"): a for a in answers}
            for i, (method, _) in zip(ids, part, strict=True):
                answer = by_id.get(i)
                if answer is None:
                    out.append(RpcError(method, 0, "no answer in the batch"))
                    continue
                try:
                    out.append(_result(method, answer))
                except RpcError as err:
                    out.append(err)
        return out

    def _post(self, body: Any, calls: int) -> Any:
        self.requests += 1
        self.calls += calls
        response = self._session.post(self.url, json=body, timeout=self.timeout)
        response.raise_for_status()
        return response.json()


def _result(method: str, answer: dict[str, Any]) -> Any:
    if "error" in answer:
        err = answer["error"]
        raise RpcError(method, err.get("code", 0), err.get("message", ""), err.get("data"))
    return answer["result"]
