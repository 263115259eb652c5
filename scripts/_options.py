"""Checks of the scripts' command-line options, run by click as it reads them: a bad value is
refused at once, in one line naming its option, before any chain is started."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def writable_folder(ctx: click.Context, param: click.Parameter, folder: Path) -> Path:
    """A click callback: the folder (made if missing) where a script writes its pictures,
    refused now if it cannot be written, not after the whole run."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise click.BadParameter(f"{folder} cannot be written: {err.strerror}") from None
    return folder


def charts_option(default: str) -> Callable[[Any], Any]:
    """`--charts DIR` (default `default`): where a script draws its pictures, checked writable as
    it is read (`writable_folder`)."""
    return click.option(
        "--charts",
        type=click.Path(path_type=Path),
        default=Path(default),
        show_default=True,
        callback=writable_folder,
        help="Folder for the PNG pictures.",
    )
