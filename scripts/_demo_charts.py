"""The demo's pictures, as PNG files: the price path with its kicks and takes, each take's
clearing price against the oracle's, and the borrowers' health before and after. matplotlib
without a screen (the Agg backend)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend


@dataclass
class Story:
    """What the demo saw, in minutes from the first price update."""

    prices: list[tuple[float, float]] = field(default_factory=list)  # (minute, oracle USD per ETH)
    kicks: list[tuple[float, float]] = field(default_factory=list)  # (minute, oracle price then)
    takes: list[tuple[float, float, float]] = field(default_factory=list)  # (minute, clearing, oracle)
    health_before: list[float] = field(default_factory=list)
    health_after: list[float] = field(default_factory=list)


def draw(story: Story, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [_price_path(story, folder), _clearing(story, folder), _health(story, folder)]


def _price_path(story: Story, folder: Path) -> Path:
    fig, ax = plt.subplots(figsize=(9, 4.5))
    minutes, prices = zip(*story.prices, strict=True) if story.prices else ((), ())
    ax.step(minutes, prices, where="post", color="black", label="oracle price (ETH/USD)")
    if story.kicks:
        ax.scatter(*zip(*story.kicks, strict=True), marker="v", color="tab:red", label="kick", zorder=3)
    if story.takes:
        ax.scatter(
            [t[0] for t in story.takes], [t[1] for t in story.takes], marker="o", s=14, color="tab:blue",
            label="take (clearing price)", zorder=3,
        )  # fmt: skip
    ax.set_xlabel("minutes since the first price update")
    ax.set_ylabel("USD per ETH")
    ax.set_title("The crash: oracle price, kicks and takes")
    ax.legend()
    return _save(fig, folder / "price_path.png")


def _clearing(story: Story, folder: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 6))
    if story.takes:
        oracle = [t[2] for t in story.takes]
        ax.scatter(oracle, [t[1] for t in story.takes], s=14, color="tab:blue", label="take")
        low, high = min(oracle) * 0.8, max(oracle) * 1.1
        ax.plot([low, high], [low, high], color="grey", linestyle="--", label="clearing = oracle")
    ax.set_xlabel("oracle price at the take (USD per ETH)")
    ax.set_ylabel("clearing price (USD per ETH)")
    ax.set_title("Each take's price against the oracle")
    ax.legend()
    return _save(fig, folder / "clearing_vs_oracle.png")


def _health(story: Story, folder: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    bins = [i / 20 for i in range(0, 61)]  # 0 to 3 in steps of 0.05
    for values, label, colour in (
        (story.health_before, "before the crash", "tab:green"),
        (story.health_after, "after", "tab:orange"),
    ):
        ax.hist([min(v, 3.0) for v in values], bins=bins, alpha=0.6, label=label, color=colour)
    ax.axvline(1.0, color="tab:red", linestyle="--", label="health 1: liquidatable below")
    ax.set_xlabel("health factor (3 and above shown at 3; accounts without debt left out)")
    ax.set_ylabel("accounts")
    ax.set_title("Borrowers' health before and after")
    ax.legend()
    return _save(fig, folder / "health.png")


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
