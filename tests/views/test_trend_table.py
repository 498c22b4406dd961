"""The report's trend table (aiobs.views.trends), built from a history store and checked against the raw rows.

Two days of synthetic traffic with a latency spike in one hour (tests/synthetic.py): per day, the table's
requests, error rate, cost per 1,000 requests and flag rates are worked out here from the requests, its
percentiles with numpy (the store's sketches are within 1%), and the spike's day alone has anomalies.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from aiobs import history
from aiobs.profiles import profile_requests
from aiobs.render.tables import markdown_table
from aiobs.report.labels import Cleaner
from aiobs.report.trends import ReportHistory, history_section, read_history
from aiobs.views.tables import TableSpec
from aiobs.views.trends import DAILY_TREND_TITLE, daily_trend_table
from synthetic import SPIKE, T0, two_days_with_a_spike

PLANTED = two_days_with_a_spike()


@pytest.fixture(scope="module")
def section(tmp_path_factory: pytest.TempPathFactory) -> ReportHistory:
    store = tmp_path_factory.mktemp("trend-table") / "store"
    history.append(store, profile_requests(PLANTED.lazy(), every="1h"), run_id="run", inputs=["run"])
    return history_section(read_history(store, days=7), Cleaner(redact_pii=True))


def _rows(spec: TableSpec) -> list[dict[str, object]]:
    return [dict(zip(spec.names, row, strict=True)) for row in spec.rows]


def test_each_day_holds_its_requests_figures(section: ReportHistory) -> None:
    spec = section.trend_table
    assert spec.title == DAILY_TREND_TITLE
    base = ["day", "requests", "error rate", "p50 ms", "p95 ms", "p99 ms", "$/1k req", "accepted"]
    assert spec.names == [*base, *section.flags, "anomalies"]
    assert [c.kind for c in spec.columns][-1] == "alert"
    rows = _rows(spec)
    assert [r["day"] for r in rows] == [f"{T0:%Y-%m-%d}", f"{T0 + timedelta(days=1):%Y-%m-%d}"]
    for i, row in enumerate(rows):
        day = PLANTED.filter(pl.col("start").dt.truncate("1d") == T0 + timedelta(days=i))
        assert row["requests"] == day.height
        assert row["error rate"] == pytest.approx(day["is_error"].mean())
        assert row["$/1k req"] == pytest.approx(day["cost_usd"].sum() / day.height * 1000)
        for name in section.flags:
            assert row[name] == pytest.approx(day[f"flag_{name}"].mean())
        for column, q in (("p50 ms", 50), ("p95 ms", 95), ("p99 ms", 99)):
            assert row[column] == pytest.approx(np.percentile(day["latency_ms"].to_numpy(), q), rel=0.01)
    spike_day = (SPIKE - T0).days
    assert [bool(r["anomalies"]) for r in rows] == [i == spike_day for i in range(len(rows))]


def test_markdown_stresses_a_day_with_anomalies_and_only_that(section: ReportHistory) -> None:
    lines = markdown_table(section.trend_table, heading=None)
    assert lines[0].startswith("| day | requests | error rate |")  # no title: the charts above say it
    spike, calm = (f"{SPIKE:%Y-%m-%d}", f"{T0:%Y-%m-%d}")
    anomalies = section.trend.filter(pl.col("period") == SPIKE.replace(hour=0))["anomalies"].item()
    assert next(line for line in lines if spike in line).endswith(f"| **{anomalies}** |")
    assert next(line for line in lines if calm in line).endswith("| 0 |")


def test_a_day_without_a_value_shows_a_dash_not_zero() -> None:
    row = {
        "period": None,
        "requests": 3,
        "error_rate": 0.0,
        "latency_p50": None,
        "latency_p95": None,
        "latency_p99": None,
        "cost_per_1k_requests": None,
        "acceptance_rate": None,
        "rate_refusal": 0.5,
        "anomalies": 0,
    }
    spec = daily_trend_table([row], ["refusal"])
    assert spec.rows == ((None, 3, 0.0, None, None, None, None, None, 0.5, 0),)
    assert markdown_table(spec, heading=None)[2] == "| — | 3 | 0.00% | — | — | — | — | — | 50.00% | 0 |"
