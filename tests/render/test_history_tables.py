"""`aiobs history` tables in a terminal of 80, 100 or 120 columns, or a pipe: nothing cropped, nothing lost.

Every line fits; every column and every value is in its table (folded, stacked, or moved to a
table of its own), or named in a "left out" note that says where to see it.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from rich.console import Console

from aiobs.render import numbers as f
from aiobs.render.history import render_history_terminal
from aiobs.views.history_view import HistoryView
from text_tables import assert_complete, assert_fits, printed_tables, table_titled

T0 = datetime(2026, 11, 23, tzinfo=UTC)
KEYS = ("claude-3-5-haiku-latest", "gpt-4o-mini-2024-07-18-eu-west-deployment", None)
WIDTHS = [80, 100, 120]


def days() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "day": [date(2026, 11, 23) + timedelta(days=i) for i in range(7)],
            "buckets": [24] * 7,
            "requests": [12_345 * (i + 1) for i in range(7)],
            "runs": [1] * 7,
            "bytes": [3_500_000 + i for i in range(7)],
        }
    )


def runs() -> pl.DataFrame:
    inputs = [
        ["s3://a-bucket-with-a-long-name/logs/2026/11/29/gateway.jsonl.gz", "s3://b/x.jsonl", "c.jsonl"],
        ["logs/chatbot.jsonl"],
    ]
    return pl.DataFrame(
        {
            "run_id": ["d181e61be46b5d02", "0123456789abcdef"],
            "recorded_at": [T0 + timedelta(days=7, hours=2), T0 + timedelta(days=8, hours=2)],
            "requests": [86_415, 1_234],
            "buckets": [168, 24],
            "first_bucket": [T0, T0 + timedelta(days=7)],
            "last_bucket": [T0 + timedelta(days=6, hours=23), T0 + timedelta(days=7, hours=23)],
            "inputs": inputs,
        }
    )


def trends(*, keyed: bool, every: timedelta) -> pl.DataFrame:
    periods = [T0 + every * i for i in range(7)]
    keys = KEYS if keyed else (None,)
    rows = [(p, k) for p in periods for k in keys]
    n = len(rows)
    frame = pl.DataFrame(
        {
            "period": [p for p, _ in rows],
            **({"key": [k for _, k in rows]} if keyed else {}),
            "requests": [1_000 + 37 * i for i in range(n)],
            "error_rate": [0.01 + 0.001 * i for i in range(n)],
            "latency_p50": [3_134.0 + i for i in range(n)],
            "latency_p95": [13_511.0 + 10 * i for i in range(n)],
            "latency_p99": [25_092.0 + 100 * i for i in range(n)],
            "cost_per_1k_requests": [5.7306 + i for i in range(n)],
            "acceptance_rate": [0.7386 + 0.001 * i for i in range(n)],
            "rate_refusal": [0.0157 + 0.001 * i for i in range(n)],
            "rate_ungrounded_url": [0.0137 + 0.001 * i for i in range(n)],
        }
    )
    return frame


def anomalies() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "bucket": [T0 + timedelta(days=6, hours=14)] * 3,
            "dimension": ["overall", "model", "route"],
            "key": [None, KEYS[1], "/v1/chat/completions/stream-with-tools"],
            "metric": ["p95(latency_ms)", "rate(slow_generation)", "cost_per_1k"],
            "value": [13_124.0, 0.25, 12.5],
            "baseline": [4_000.0, 0.01, 3.2],
            "score": [7.25, 12.0, 4.1],
            "reference": ["same hour, 6 day(s)", "last 24 h, 20 hour(s)", None],
        }
    )


def view(*, by: str = "overall", every: str = "1d") -> HistoryView:
    step = timedelta(days=1) if every == "1d" else timedelta(hours=1)
    return HistoryView(
        store="nightly-store",
        days=days(),
        runs=runs(),
        trends=trends(keyed=by != "overall", every=step),
        anomalies=anomalies(),
        scored=5_000,
        window_days=7,
        by=by,
        every=every,
        removed=[],
    )


def render(shown: HistoryView, width: int | None) -> str:
    buffer = io.StringIO()
    render_history_terminal(shown, Console(file=buffer, width=width, color_system=None))
    return buffer.getvalue()


def time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def period(value: datetime, every: str) -> str:
    return value.strftime("%Y-%m-%d") if every == "1d" else time(value)


def assert_every_table_complete(output: str, shown: HistoryView) -> None:
    d, r, t, a = shown.days, shown.runs, shown.trends, shown.anomalies
    assert_complete(
        table_titled(output, "Days"),
        {
            "day": [x.isoformat() for x in d["day"]],
            "hour buckets": [str(x) for x in d["buckets"]],
            "requests": [f.count(x) for x in d["requests"]],
            "size": ["3.3 MB"],
        },
    )
    runs_and_inputs = [table_titled(output, "Runs")] + [
        x for x in printed_tables(output) if x.title == "Inputs per run"
    ]
    merged = runs_and_inputs[0]
    for other in runs_and_inputs[1:]:  # the inputs moved to a table of their own count as the runs table's
        merged.headers, merged.columns = merged.headers + other.headers, merged.columns + other.columns
        merged.notes += " " + other.notes
    assert_complete(
        merged,
        {
            "run": list(r["run_id"]),
            "recorded": [time(x) for x in r["recorded_at"]],
            "requests": [f.count(x) for x in r["requests"]],
            "hours": [str(x) for x in r["buckets"]],
            "span": [f"{time(a)} → {time(b)}" for a, b in zip(r["first_bucket"], r["last_bucket"], strict=True)],
            "inputs": ["s3://a-bucket-with-a-long-name/logs/2026/11/29/gateway.jsonl.gz, s3://b/x.jsonl (+1)"],
        },
    )
    trend = table_titled(output, "Trend per")
    assert_complete(
        trend,
        {
            "period": [period(x, shown.every) for x in t["period"]],
            "key": ["—" if k is None else k for k in t["key"]] if "key" in t.columns else [],
            "req": [f.count(x) for x in t["requests"]],
            "err": [f.pct(x) for x in t["error_rate"]],
            "p50 ms": [f.ms(x) for x in t["latency_p50"]],
            "p95 ms": [f.ms(x) for x in t["latency_p95"]],
            "p99 ms": [f.ms(x) for x in t["latency_p99"]],
            "$/1k req": [f.usd(x) for x in t["cost_per_1k_requests"]],
            "accepted": [f.pct(x) for x in t["acceptance_rate"]],
        },
    )
    if shown.by == "overall":
        flags = table_titled(output, "Flag rates per")
        rates = {
            period(row["period"], shown.every): [f.pct(row["rate_refusal"]), f.pct(row["rate_ungrounded_url"])]
            for row in t.iter_rows(named=True)
        }
        assert_complete(flags, {"flag": ["refusal", "ungrounded_url"], **rates})
    assert_complete(
        table_titled(output, "Anomalies"),
        {
            "hour": [time(x) for x in a["bucket"]],
            "group": ["overall", f"model={KEYS[1]}", "route=/v1/chat/completions/stream-with-tools"],
            "metric": list(a["metric"]),
            "value": ["13,124 ms", "25.00%", "$12.5000"],
            "baseline": ["4,000 ms", "1.00%", "$3.2000"],
            "score": ["7.2", "12.0", "4.1"],
            "reference": ["same hour, 6 day(s)", "last 24 h, 20 hour(s)"],
        },
    )


@pytest.mark.parametrize(("by", "every"), [("overall", "1d"), ("overall", "1h"), ("model", "1d"), ("route", "1h")])
@pytest.mark.parametrize("width", WIDTHS)
def test_every_table_fits_and_keeps_every_value(width: int, by: str, every: str) -> None:
    shown = view(by=by, every=every)
    output = render(shown, width)
    assert_fits(output, width)
    assert_every_table_complete(output, shown)


def test_through_a_pipe_the_width_is_80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    shown = view(by="model", every="1h")
    output = render(shown, None)
    assert_fits(output, 80)
    assert_every_table_complete(output, shown)


def test_what_80_columns_leave_out_is_named_with_where_to_see_it() -> None:
    output = render(view(every="1h"), 80)
    flags = table_titled(output, "Flag rates per")
    assert "2026-11-23 00:00" in flags.notes and "2026-11-23 06:00" not in flags.notes  # the earliest hours
    assert flags.notes.endswith("left out at 80 columns; widen the terminal or use --format json.")
    trend = table_titled(render(view(by="model"), 80), "Trend per")
    assert trend.notes.startswith("p50 ms and accepted left out at 80 columns; widen the terminal or use --format")


def test_wide_enough_nothing_is_left_out() -> None:
    output = render(view(by="model", every="1h"), 200)
    assert "left out" not in output and "Inputs per run" not in output
