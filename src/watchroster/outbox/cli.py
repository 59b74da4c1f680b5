"""`watchroster worker` and `watchroster outbox …`."""

from __future__ import annotations

import typer

outbox_app = typer.Typer(help="Inspect and retry queued messages.", no_args_is_help=True)


def worker_command() -> None:
    """Run the message dispatcher and periodic jobs (scale-out mode)."""
    raise typer.Exit(1)
