"""`make demo`'s script as a user runs it, the quick way (`--borrowers 20`): it tells its story in
one line per price step with no line per transaction, ends with the report, draws three PNG
pictures in the folder it names, states its peak memory, and exits 0 with nothing left
liquidatable."""

import importlib
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from scripts._deployment import ROOT

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_quick_demo_tells_its_story(tmp_path):
    ape = Path(sys.executable).parent / "ape"
    charts = tmp_path / "charts"
    run = subprocess.run(
        [str(ape), "run", "demo", "--borrowers", "20", "--charts", str(charts)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = run.stdout
    assert run.returncode == 0, (out + run.stderr)[-3000:]
    steps = [line for line in out.splitlines() if line.startswith("  ETH $")]
    assert len(steps) == 5 and all("kicks" in s and "bad debt so far" in s for s in steps)
    assert "Confirmed 0x" not in out + run.stderr  # no line per transaction
    assert "Gavel demo report" in out and "liquidatable accounts left    0" in out
    # It says why an account was kicked more than once, and what borrowers lost beside the keeper.
    assert "accounts kicked more than once" in out and "(the close factor)" in out
    (loss,) = [line for line in out.splitlines() if line.startswith("  borrowers' loss")]
    assert float(loss.split()[2].replace(",", "")) > 0 and "keeper profit" in out
    for name in ("price_path.png", "clearing_vs_oracle.png", "health.png"):
        assert (charts / name).read_bytes()[:8] == PNG and str(charts / name) in out
    (memory,) = [line for line in out.splitlines() if "peak memory" in line]
    assert "Anvil" in memory and len(out.splitlines()) < 45


def _no_chain() -> None:
    raise AssertionError("a chain was started: the option was not refused at once")


@pytest.mark.unit
@pytest.mark.parametrize(
    "script, args, refusal",
    [
        ("demo", ["--borrowers", "0"], "Invalid value for '--borrowers': 0 is not in the range x>=1"),
        ("demo", ["--borrowers", "-3"], "Invalid value for '--borrowers': -3 is not in the range x>=1"),
        # The lender's 20M USDC serve about 2,000; past them the borrows failed at set-up.
        ("demo", ["--borrowers", "100000"], "Invalid value for --borrowers: 100,000 borrowers would borrow"),
        ("demo", ["--charts", "{file}/charts"], "Invalid value for '--charts': {file}/charts cannot be written"),
        ("bench_crash", ["--charts", "{file}/charts"], "Invalid value for '--charts'"),
        ("bench_crash", ["--penalty", "0.5"], "--penalty/--cusp: outside the contracts' bounds: WETH penalty = 0.5 is"),
        (
            "bench_crash",
            ["--cut", "2"],
            "--penalty/--cusp: outside the contracts' bounds: cut = 2 is outside 0.5..0.9999",
        ),
    ],
)
def test_a_bad_option_is_refused_at_once_in_one_line(monkeypatch, tmp_path, script, args, refusal):
    module = importlib.import_module(f"scripts.{script}")
    monkeypatch.setattr(module, "Anvil", _no_chain)
    monkeypatch.chdir(tmp_path)  # where the default charts folder is made
    file = tmp_path / "a-file"
    file.write_text("")
    result = CliRunner().invoke(module.cli, [a.format(file=file) for a in args])
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert result.exit_code == 2, result.output
    assert len(errors) == 1 and refusal.format(file=file) in errors[0], result.output


@pytest.mark.unit
def test_the_lending_limit_is_exact_for_the_seed():
    from scripts.demo import check_lending

    check_lending(2_061, 7)  # the first 2,061 borrowers of seed 7 fit: no error
    with pytest.raises(click.BadParameter, match="at most 2,061 fit with --seed 7"):
        check_lending(2_062, 7)


@pytest.mark.unit
def test_ape_run_demo_refuses_a_bad_option_in_one_line():
    ape = Path(sys.executable).parent / "ape"
    run = subprocess.run([str(ape), "run", "demo", "--borrowers", "0"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    errors = [line for line in (run.stdout + run.stderr).splitlines() if "Error" in line or "Traceback" in line]
    assert run.returncode == 2 and len(errors) == 1 and "'--borrowers'" in errors[0], run.stdout + run.stderr
