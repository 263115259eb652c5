"""The demo's pictures, as PNG files: the price path with its kicks and takes, each take's
discount under the oracle's price, and the borrowers' health before and after (liquidated
accounts included). matplotlib without a screen (the Agg backend)."""

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
    health_after: list[float] = field(default_factory=list)  # accounts still in debt
    closed: int = 0  # accounts the liquidations left without debt
    floor: float = 0.965  # the auctions' floor as a share of the oracle's price


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
    """Each take's discount under the oracle, in percent: on a price axis the 1-3.5% between them
    would vanish."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if story.takes:
        discounts = [100 * (1 - t[1] / t[2]) for t in story.takes]
        ax.scatter([t[0] for t in story.takes], discounts, s=14, color="tab:blue", label="take")
    ax.axhline(0, color="grey", linestyle="--", label="the oracle's price")
    floor = "the auctions' floor (below it: lots at full urgency, the penalty paying the difference)"
    ax.axhline(100 * (1 - story.floor), color="tab:red", linestyle=":", label=floor)
    ax.axhline(6.0, color="black", linestyle="-.", label="a fixed 6% discount (Morpho Blue at LLTV 80%)")
    ax.set_xlabel("minutes since the first price update")
    ax.set_ylabel("discount under the oracle at the take (%)")
    ax.set_title("What each take paid, under the oracle's price")
    ax.invert_yaxis()
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
    if story.closed:
        ax.bar(3.2, story.closed, width=0.1, color="tab:orange", alpha=0.6, hatch="//")
        ax.annotate(f"liquidated,\nno debt left: {story.closed}", (3.2, story.closed), ha="center", va="bottom")
    ax.axvline(1.0, color="tab:red", linestyle="--", label="health 1: liquidatable below")
    ax.set_xlabel("health factor (3 and above shown at 3; the hatched bar: accounts liquidated to no debt)")
    ax.set_ylabel("accounts")
    ax.set_title("Borrowers' health before and after")
    ax.legend(loc="upper center")
    return _save(fig, folder / "health.png")


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
