"""`aiobs check`: SLOs and regression gates for CI. Exit 0 all hold, 1 any breached, 2 usage or input error."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from aiobs.cli import options
from aiobs.cli.common import (
    ExitCode,
    check_output_target,
    read_logs,
    record_in_history,
    stdout_console,
    store_warnings,
    user_errors,
    write_atomically,
)
from aiobs.config import Config, load_config
from aiobs.errors import InputError, UsageError
from aiobs.gates.baseline import Baseline, is_summary_document, load_summary_baseline
from aiobs.gates.check import baseline_from_summary, check
from aiobs.gates.expressions import Gate, Slo, parse_gate, parse_slo
from aiobs.history_store import check_store_target
from aiobs.redact import Privacy
from aiobs.render.check import render_check_markdown, render_check_terminal
from aiobs.render.junit import render_junit

STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


def _slos(settings: Config, texts: list[str]) -> list[Slo]:
    """[slo] from the config file, then each --slo (named by its own text)."""
    return [parse_slo(text, name=name) for name, text in settings.slos] + [parse_slo(text) for text in texts]


def _gates(settings: Config, texts: list[str]) -> list[Gate]:
    """--max-regression replaces [slo].max_regression when given."""
    return [parse_gate(text) for text in (texts or list(settings.max_regression))]


def _baseline(paths: list[str], **read: Any) -> Baseline:
    saved = [p for p in paths if is_summary_document(Path(p))]
    if saved and len(paths) > 1:
        msg = f"--baseline takes logs or one saved summary, not both: {saved[0]} is a summary saved with --format json"
        raise UsageError(msg)
    if saved:
        return load_summary_baseline(Path(saved[0]))
    summary = read_logs(paths, since=None, until=None, **read)
    label = paths[0] if len(paths) == 1 else f"{len(paths)} paths"
    return baseline_from_summary(summary, f"{label} (logs, {len(summary.inputs)} input(s))")


#: CI logs do not wrap at 80 columns: without a terminal (and without COLUMNS), print this wide.
CI_WIDTH = 120


def _console() -> Console:
    console = stdout_console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        return stdout_console(width=CI_WIDTH)
    return console


def _append_step_summary(markdown: str) -> None:
    """GitHub shows what a step appends to $GITHUB_STEP_SUMMARY; a broken path is a warning, not a failure."""
    target = os.environ.get(STEP_SUMMARY)
    if not target:
        return
    try:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(markdown)
    except OSError as exc:
        typer.echo(f"aiobs: warning: cannot append to ${STEP_SUMMARY} ({target}): {exc.strerror}", err=True)


def check_command(
    paths: list[str] = options.PATHS,
    slo: list[str] = typer.Option(
        [],
        "--slo",
        "-s",
        metavar="EXPR",
        help="An SLO such as 'p95(latency_ms) < 3000' or 'error_rate < 1% by model' (repeat).",
    ),
    baseline: list[str] = typer.Option(
        [],
        "--baseline",
        metavar="PATHS",
        help="Baseline logs (files, folders, globs) or one summary saved with --format json.",
    ),
    max_regression: list[str] = typer.Option(
        [],
        "--max-regression",
        "-r",
        metavar="GATE",
        help="Largest allowed worsening against --baseline: p95=10%, error_rate=1pp, rate(refusal)=1pp (repeat).",
    ),
    confidence: float | None = typer.Option(
        None,
        "--confidence",
        metavar="LEVEL",
        help="Confidence for baseline comparisons over all of them (default 0.95).",
    ),
    junit: Path | None = typer.Option(
        None, "--junit", metavar="FILE", help="Write JUnit XML here (one testcase per check)."
    ),
    history: Path | None = typer.Option(
        None, "--history", metavar="DIR", help="Also record this run in a history store folder."
    ),
    show_all: bool = typer.Option(False, "--all", help="List every baseline comparison, not only those not ok."),
    allow_unmatched: bool = typer.Option(
        False, "--allow-unmatched", help="Let an SLO whose filter matches no request pass as no data."
    ),
    since: str | None = options.SINCE,
    until: str | None = options.UNTIL,
    field_map: list[str] = options.FIELD_MAP,
    prices: Path | None = options.PRICES,
    config: Path | None = options.CONFIG,
    strict: bool = typer.Option(False, "--strict", help="Also exit 1 on input problems or an SLO without data."),
    endpoint_url: str | None = options.ENDPOINT_URL,
    engine: str | None = options.ENGINE,
    ray_address: str | None = options.RAY_ADDRESS,
    where: list[str] = options.WHERE,
    input_format: str | None = options.INPUT_FORMAT,
    time_is: str | None = options.TIME_IS,
    time_format: str | None = options.TIME_FORMAT,
    timezone: str | None = options.TIMEZONE,
    http_error_from: int | None = options.HTTP_ERROR_FROM,
    no_redact: bool = options.NO_REDACT,
    hash_users: bool = options.HASH_USERS,
) -> None:
    """Check SLOs (and regressions against a baseline) for CI: exit 0 when all hold, 1 when any is breached.

    SLOs come from [slo] in aiobs.toml and from --slo. With --baseline, every gate (--max-regression,
    or [slo].max_regression, or the defaults p95=10%, error_rate=1pp, cost_per_1k=10%, rate(*)=1pp,
    acceptance_rate=5pp) is compared overall and per model, route and stage. Writes Markdown to
    $GITHUB_STEP_SUMMARY when it is set. Exit codes: 0 all hold; 1 any breached or regressed (with
    --strict also input problems or no data); 2 bad arguments, expressions or input. See docs/ci.md.

    \b
    Examples:
      aiobs check logs/ --slo 'p95(latency_ms) < 3000' --slo 'error_rate < 1%'
      aiobs check logs/ --baseline baseline.json --max-regression p95=10%
      aiobs check logs/ --slo 'p99(latency_ms) < 10s' --junit results.xml
    """
    warn = store_warnings()  # a damaged history file: named on stderr, never a failed run
    with user_errors():
        settings = load_config(config)
        slos = _slos(settings, slo)
        gates = _gates(settings, max_regression)
        level = confidence if confidence is not None else (settings.confidence or 0.95)
        if not 0.5 <= level < 1:
            raise UsageError("--confidence must be from 0.5 to 0.999, e.g. 0.95")
        if not slos and not baseline:
            raise UsageError("nothing to check: give --slo, an [slo] section in aiobs.toml, or --baseline")
        if max_regression and not baseline:
            raise UsageError("--max-regression needs --baseline (logs, or a summary saved with --format json)")
        if junit is not None:
            check_output_target(junit)  # before the logs are read: a breach must not end as exit 2 at the end
        if history is not None:
            check_store_target(history, warn=warn)
        read: dict[str, Any] = {
            "field_map": field_map,
            "prices": prices,
            "config": config,
            "endpoint_url": endpoint_url,
            "engine": engine,
            "ray_address": ray_address,
            "where": where,
            "input_format": input_format,
            "time_is": time_is,
            "time_format": time_format,
            "timezone": timezone,
            "http_error_from": http_error_from,
            "keep_texts": False,  # gates read aggregates and flags, never the texts
            # CI logs are often public: group labels (users, routes, models) are private by default.
            "privacy": Privacy(redact=not no_redact, hash_users=hash_users),
        }
        summary = read_logs(paths, since=since, until=until, **read)
        if summary.n_requests == 0:
            # A gate must not pass because the window held nothing to judge.
            raise InputError(f"no requests in {', '.join(paths)} between --since and --until: nothing to check")
        reference = _baseline(baseline, **read) if baseline else None
        report = check(
            summary, slos=slos, baseline=reference, gates=gates, confidence=level, allow_unmatched=allow_unmatched
        )
        render_check_terminal(report, _console(), show_all=show_all)
        if junit is not None:
            write_atomically(junit, render_junit(report))
        _append_step_summary(render_check_markdown(report))
        if history is not None:
            record_in_history(history, summary, warn=warn)
    if report.failed:
        raise typer.Exit(int(ExitCode.FOUND_PROBLEMS))
    if strict and (summary.issues.failing or report.slos_without_data):
        typer.echo(
            f"aiobs: {summary.issues.failing:,} input problem(s), {report.slos_without_data} SLO(s) without data "
            "(--strict)",
            err=True,
        )
        raise typer.Exit(int(ExitCode.FOUND_PROBLEMS))
