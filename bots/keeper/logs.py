"""Structured logs: one JSON object per line, with the logger, level, message and any `extra`
fields. The keeper never passes a key or a secret to a logger."""

from __future__ import annotations

import json
import logging
import time

from bots.keeper.status import short_id

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)  # "…" in a short auction id


def configure(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("gavel")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def shown(target: str) -> str:
    """What a transaction is for (an account, an auction id, an address) as a log line shows it:
    an auction id in its short form, anything else as it is."""
    return short_id(target) if target.isdigit() else target
