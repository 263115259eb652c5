"""Nodes and processes a test starts itself: a free local port, a standalone Anvil whose state
survives a restart, a process whose output lines are collected, and a bounded wait for what they
do. Pure Python (no Ape): any test folder imports these (`from processes import Node`)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANVIL = ROOT / "node_modules" / ".bin" / "anvil"


class Node:
    """A standalone Anvil (chain id 1337, as Ape's local network expects) whose state survives
    a restart."""

    def __init__(self, folder: Path, chain_id: int = 1337) -> None:
        self.port, self.state = free_port(), folder / "anvil-state.json"
        self.uri = f"http://127.0.0.1:{self.port}"
        self.network = f"ethereum:local:{self.uri}"
        self.chain_id = chain_id
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [str(ANVIL), "--port", str(self.port), "--chain-id", str(self.chain_id), "--state", str(self.state)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, "Anvil to answer")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # Anvil writes its state on the way out
            self.process.wait(PATIENCE)

    def _answers(self) -> bool:
        return listening(self.port)


class Process:
    """A process (the keeper, in the tests that start one) whose output lines (JSON logs and
    anything else) are collected."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))

    def logs(self, message: str | None = None, prefix: str | None = None) -> list[dict]:
        """JSON log entries whose message is `message`, or starts with `prefix`."""
        out = []
        for line in list(self.lines):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            text = entry.get("message", "") if isinstance(entry, dict) else None
            if text is not None and (message is None or text == message) and text.startswith(prefix or ""):
                out.append(entry)
        return out

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(PATIENCE)

    def output(self) -> str:
        return "\n".join(self.lines[-40:])


# [s] How long a process test waits for what it expects before it fails. Each wait ends the moment
# its event happens, so the bound only decides how long a broken run takes to say so: it is set for
# a machine whose cores are all busy with other work (load average 6-12 on two cores), not an idle one.
PATIENCE = 600


def wait_for(predicate, what: str, process: Process | None = None, timeout: float = PATIENCE) -> None:
    """Poll `predicate` until it holds; fail naming `what` after `timeout` seconds, or at once if
    `process` exits first (it will not do what we wait for then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process is not None and process.popen.poll() is not None:
            raise AssertionError(
                f"the process exited ({process.popen.returncode}) while we waited for {what}"
                f"\n--- last output ---\n{process.output()}"
            )
        time.sleep(0.2)
    detail = f"\n--- last output ---\n{process.output()}" if process else ""
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")


def free_port() -> int:
    """A local TCP port nothing listens on (yet): for a node a test starts, or one it must not reach."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
