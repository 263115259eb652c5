"""The documentation against the code: the keeper's settings table in docs/keeper.md names exactly
the settings of `KeeperSettings`, with its defaults; every relative link in the README, docs/ and
the changelog reaches a file (and a heading, when it names one); the README stays short.
No chain: this reads files and the settings model only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic_core import PydanticUndefined

from bots.keeper.config import KeeperSettings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
KEEPER_PAGE = ROOT / "docs" / "keeper.md"
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 200

# Settings whose default is worked out when the keeper starts, so the table describes it in words:
COMPUTED_DEFAULTS = {
    "account",  # test account 0 on a local chain or a fork; required elsewhere
    "deployments",  # deployments/<ecosystem>-<network>.json, from `network`
    "markets",  # the one market named by `deployments` and `database`
    "outbox",  # the first market's database
}


@pytest.fixture(scope="session", autouse=True)
def deterministic_clock():
    """No chain here: stands in for tests/conftest.py's fixture of the same name, which dates the
    test chain's blocks."""


def settings_table(text: str) -> dict[str, str]:
    """The keeper settings table's rows, as {key: documented default}. A row may name several
    keys and defaults, each separated by " / " (`max_fee_gwei` / `priority_fee_gwei` | 200 / 1)."""
    lines = text.splitlines()
    start = lines.index("| key | default | meaning |")
    rows: dict[str, str] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        key_cell, default_cell, _meaning = (cell.strip() for cell in line.strip("|").split(" | ", 2))
        keys = [key.strip().strip("`") for key in key_cell.split(" / ")]
        # a single key's default may itself hold " / " (markets: `deployments` / `database`)
        defaults = default_cell.split(" / ") if len(keys) > 1 else [default_cell]
        assert len(defaults) == len(keys), f"row {key_cell}: {len(keys)} keys but {len(defaults)} defaults"
        for key, default in zip(keys, defaults, strict=True):
            assert key not in rows, f"{key} is documented twice"
            rows[key] = default.strip()
    return rows


def documented_value(text: str) -> object:
    """A documented default as a value: backticks and thousands separators dropped; "none",
    "true" and "false" as Python's; numbers as numbers; anything else as the text."""
    text = text.strip("`")
    words = {"none": None, "true": True, "false": False}
    if text.lower() in words:
        return words[text.lower()]
    number = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    try:
        return float(number) if "." in number else int(number)
    except ValueError:
        return text


def same_default(documented: object, default: object) -> bool:
    if documented is None or isinstance(documented, bool) or isinstance(default, bool):
        return documented is default
    if isinstance(documented, int | float):
        return isinstance(default, int | float) and float(default) == float(documented)
    return str(default) == documented  # a Path, a StrEnum or a string


def test_the_settings_table_names_every_setting_and_nothing_else():
    documented = set(settings_table(KEEPER_PAGE.read_text()))
    model = set(KeeperSettings.model_fields)
    assert documented - model == set(), "documented but not settings"
    assert model - documented == set(), "settings missing from docs/keeper.md"


def test_the_settings_table_gives_each_plain_default():
    table = settings_table(KEEPER_PAGE.read_text())
    wrong = []
    for key, field in KeeperSettings.model_fields.items():
        if key not in table:
            continue  # the test above names it
        if key in COMPUTED_DEFAULTS:
            # Still computed: a plain default given to one of these must be documented as a value.
            assert field.default is None or field.default_factory is not None, f"{key} now has a plain default"
            continue
        assert field.default is not PydanticUndefined, f"{key} has no default"
        if not same_default(documented_value(table[key]), field.default):
            wrong.append(f"{key}: docs/keeper.md says {table[key]!r}, the model {field.default!r}")
    assert wrong == []


def heading_anchors(text: str) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", without_fences(text), flags=re.MULTILINE):
        base = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchor, n = base, 0
        while anchor in anchors:
            n += 1
            anchor = f"{base}-{n}"
        anchors.add(anchor)
    return anchors


def without_fences(text: str) -> str:
    """The text without fenced blocks, where `#` starts a comment, not a heading."""
    return re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)


def without_code(text: str) -> str:
    """The text without fenced blocks and inline code, where brackets are not links."""
    return re.sub(r"`[^`\n]*`", "", without_fences(text))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file_and_heading(page):
    links = re.findall(r"\]\(([^)\s]+)\)", without_code(page.read_text()))
    for link in links:
        if re.match(r"^[a-z]+:", link):
            continue  # https:, mailto:: not this repository's
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        assert target.exists(), f"{page.name}: {link} names no file"
        if anchor and target.suffix == ".md":
            assert anchor in heading_anchors(target.read_text()), f"{page.name}: {link} names no heading"


def test_the_readme_is_short():
    lines = len((ROOT / "README.md").read_text().splitlines())
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; the detail belongs in docs/"
