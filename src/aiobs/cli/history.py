"""`aiobs history`: list a history store, its trends and anomalies; prune it with --keep-days."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer

from aiobs import history
from aiobs.cli import options
from aiobs.cli.common import stdout_console, store_warnings, user_errors
from aiobs.profiles import DIMENSIONS, OVERALL
from aiobs.redact import Privacy
from aiobs.render.history import render_history_json, render_history_terminal
from aiobs.views.history_view import HistoryQuery, history_view


class HistoryFormat(StrEnum):
    terminal = "terminal"
    json = "json"


def history_command(
    store: Path = typer.Argument(..., metavar="STORE", help="The history store folder (written by --history DIR)."),
    days: int = typer.Option(7, "--days", "-d", min=1, max=3660, metavar="N", help="Show the last N days of data."),
    by: str = typer.Option(
        OVERALL, "--by", "-b", metavar="KEY", help=f"Trend for {', '.join((OVERALL, *DIMENSIONS))}."
    ),
    every: str = typer.Option("1d", "--every", metavar="DURATION", help="Trend period: 1d, 6h, 1h, 1w."),
    keep_days: int | None = typer.Option(
        None,
        "--keep-days",
        min=1,
        max=36600,
        metavar="N",
        help="First remove the days before the last N days (today, UTC, is one).",
    ),
    fmt: HistoryFormat = typer.Option(HistoryFormat.terminal, "--format", "-f", help="terminal or json."),
    no_redact: bool = options.NO_REDACT,
    hash_users: bool = options.HASH_USERS,
) -> None:
    """List what a history store holds, the trend over the last days, and anomalous hours.

    Anomalies: an hour whose p95 latency, error rate, cost per 1,000 requests, flag rate or
    acceptance rate is worse than the same hour on earlier days by a robust z-score of 3.5 or more
    (median and MAD; see docs/ci.md); coarser buckets (3 h, 6 h, 1 d) where hours have too few
    requests. Anomalies that overlap in time are listed once, as an incident; metrics that could
    not be scored are listed with why. --keep-days N deletes older days. A damaged file in the store is
    skipped with a warning on stderr. Exit codes: 0 ok; 2 not a store.

    \b
    Examples:
      aiobs history store/
      aiobs history store/ --days 14
      aiobs summarize logs/ --since 24h --history store/   # to fill it
    """
    with user_errors():
        # A damaged file is skipped (or, by --keep-days, left or pruned) and named on stderr: the rest is shown.
        warn = store_warnings()
        removed = history.prune(store, keep_days=keep_days, warn=warn) if keep_days is not None else []
        view = history_view(
            str(store),
            HistoryQuery(window_days=days, by=by, every=every),
            days=history.days(store, warn=warn),
            runs=history.runs(store, warn=warn),
            trends=history.trends(store, days=days, by=by, every=every, warn=warn),
            detection=history.detect(store, days=days, warn=warn),
            removed=removed,
            privacy=Privacy(redact=not no_redact, hash_users=hash_users),
        )
        if fmt is HistoryFormat.json:
            sys.stdout.write(render_history_json(view))
        else:
            render_history_terminal(view, stdout_console())
