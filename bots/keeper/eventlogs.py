"""The events the mirror is built from, fetched with raw `eth_getLogs` and decoded here.

Ape's `ContractEvent.range` sends one request per event name and builds a pydantic object per
log; a cold sync of a busy Vault spent most of its time there. Here one request per block range
asks for every indexed event of every watched contract at once (topic 0 in a list), and each log
is decoded by slicing its 32-byte words: every event the mirror reads has only static fields
(`eth_abi` decodes anything else). Hosted RPCs cap the size of an `eth_getLogs` answer; a range
they refuse is split in half until it is accepted, and later ranges start at the width that
worked."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.crypto import keccak

log = logging.getLogger("gavel.keeper.eventlogs")

Request = Callable[[str, list[Any]], Any]  # a JSON-RPC call: (method, params) -> result

# How providers word "your answer would be too big" (geth/Infura: "query returned more than 10000
# results"; Alchemy: "Log response size exceeded"; others: "block range is too wide", "limit
# exceeded", "too many logs"). Anything else (a timeout, a dropped connection: "Max retries
# exceeded with url") is not narrowed:
# it is retried by the keeper's loop like any other failed request.
_TOO_LARGE = re.compile(
    r"more than|too many|too large|too wide|response size|block range|exceeds? max|max results"
    r"|limit(ed)? (exceeded|to)",
    re.IGNORECASE,
)


class LogRangeRefused(Exception):
    """A provider refused even a one-block range: nothing narrower can be asked for."""


@dataclass(frozen=True)
class Event:
    """One decoded log: what the indexer needs of it (addresses lower-case hex, numbers as int)."""

    event_name: str
    event_arguments: dict[str, Any]
    block_number: int
    log_index: int


@dataclass(frozen=True)
class _Field:
    name: str
    type: str
    indexed: bool


@dataclass(frozen=True)
class _EventShape:
    name: str
    fields: tuple[_Field, ...]  # in the signature's order
    body: tuple[_Field, ...]  # the non-indexed ones, in the data's order
    static_body: bool  # every body field is one word: decoded by slicing


class EventDecoder:
    """Decodes logs of the given events, keyed by topic 0 (the hash of the event's signature)."""

    def __init__(self, abis: Iterable[Any]) -> None:
        """`abis`: event ABIs with `name`, `selector` ("Name(type,...)") and `inputs` (each with
        `name`, `type`, `indexed`), as Ape's contract types give them."""
        self._events: dict[bytes, _EventShape] = {}
        for abi in abis:
            fields = tuple(_Field(i.name, i.type, bool(i.indexed)) for i in abi.inputs)
            body = tuple(f for f in fields if not f.indexed)
            self._events[keccak(text=abi.selector)] = _EventShape(
                abi.name, fields, body, all(_static(f.type) for f in body)
            )

    @property
    def topics(self) -> list[str]:
        return ["0x" + topic.hex() for topic in self._events]

    def decode(self, entry: dict[str, Any]) -> Event | None:
        """The event in a raw log, or None for a log of another event."""
        topics = [_bytes(t) for t in entry["topics"]]
        if not topics or topics[0] not in self._events:
            return None
        shape = self._events[topics[0]]
        data = _bytes(entry["data"])
        args: dict[str, Any] = {}
        indexed = iter(topics[1:])
        if shape.static_body:
            for i, f in enumerate(shape.body):
                args[f.name] = _word(f.type, data[32 * i : 32 * i + 32])
        else:
            values = abi_decode([f.type for f in shape.body], data)
            args.update({f.name: v for f, v in zip(shape.body, values, strict=True)})
        for f in shape.fields:
            if f.indexed:
                topic = next(indexed)
                args[f.name] = _word(f.type, topic) if _static(f.type) else "0x" + topic.hex()  # hashed
        return Event(shape.name, args, _int(entry["blockNumber"]), _int(entry["logIndex"]))


class LogFetcher:
    """`eth_getLogs` for some contracts' events over a block range, narrowing refused ranges."""

    def __init__(self, request: Request, addresses: Sequence[str], decoder: EventDecoder, max_span: int) -> None:
        self.request, self.decoder = request, decoder
        self.addresses = [a.lower() for a in addresses]
        self.max_span = max_span
        self.span = max_span  # the width to try next: narrowed on refusal, widened on success
        self.requests = 0  # sent, refused ones included (for the benchmark and the metrics)
        self.refusals = 0

    def logs(self, start: int, stop: int) -> list[Event]:
        """Every watched event in blocks start..stop (inclusive), in chain order."""
        events: list[Event] = []
        block = start
        while block <= stop:
            end = min(block + self.span - 1, stop)
            try:
                raw = self._get_logs(block, end)
            except Exception as err:  # noqa: BLE001 - providers raise many types; the message decides
                if not _TOO_LARGE.search(str(err)):
                    raise
                self.refusals += 1
                if end == block:
                    raise LogRangeRefused(f"the provider refused the logs of block {block} alone: {err}") from err
                self.span = max(1, (end - block + 1) // 2)
                log.info("provider refused logs of %s blocks; asking for %s at a time", end - block + 1, self.span)
                continue
            for entry in raw:
                event = self.decoder.decode(entry)
                if event is not None:
                    events.append(event)
            block = end + 1
            self.span = min(self.max_span, self.span * 2)  # a provider's cap is on results, not blocks
        events.sort(key=lambda e: (e.block_number, e.log_index))
        return events

    def _get_logs(self, start: int, stop: int) -> list[dict[str, Any]]:
        self.requests += 1
        query = {
            "fromBlock": hex(start),
            "toBlock": hex(stop),
            "address": self.addresses,
            "topics": [self.decoder.topics],
        }
        return list(self.request("eth_getLogs", [query]) or [])


def _static(abi_type: str) -> bool:
    return (
        abi_type in ("address", "bool")
        or re.fullmatch(r"u?int\d*", abi_type) is not None
        or re.fullmatch(r"bytes\d+", abi_type) is not None
    )


def _word(abi_type: str, word: bytes) -> Any:
    if abi_type == "address":
        return "0x" + word[12:].hex()
    if abi_type == "bool":
        return word[-1] == 1
    if abi_type.startswith("uint"):
        return int.from_bytes(word, "big")
    if abi_type.startswith("int"):
        return int.from_bytes(word, "big", signed=True)
    return word[: int(abi_type[5:])]  # bytesN


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    text = str(value)
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def _int(value: Any) -> int:
    return value if isinstance(value, int) else int(str(value), 16)
