"""Low traffic: thin hours judged on coarser buckets (and said so), one incident told once, and every metric
that could not be scored named with why. Numbers are checked against numpy on the planted requests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from aiobs import history
from aiobs.anomaly import AnomalyRules, coarsen, hourly_series
from aiobs.cli import app
from aiobs.incidents import NO_BASELINE, PARTLY, SCORED, TOO_FEW, Detection, group_incidents
from aiobs.profiles import profile_requests
from aiobs.views.trends import scoring_rows, scoring_text
from synthetic import T0, make_requests

DAYS = 8
PER_HOUR = 80
#: The incident hour: every request 6× slower, and a fifth of them failing.
SPIKE = T0 + timedelta(days=6, hours=14)
#: The 3 h bucket that holds it.
SPIKE_3H = SPIKE - timedelta(hours=2)


def in_window(start: object, hours: int) -> pl.Expr:
    return (pl.col("start") >= start) & (pl.col("start") < start + timedelta(hours=hours))  # type: ignore[operator]


def eighty_an_hour(*, latency: float = 6.0, errors: bool = True) -> pl.DataFrame:
    """Eight days at 80 requests an hour on one route, the `error` flag being the error status (as aiobs sets it)."""
    frame = make_requests(DAYS * 24 * PER_HOUR, seed=5, span=timedelta(days=DAYS), routes=("/chat",))
    failing = pl.col("correlation_id").str.contains("[27]$")  # a fifth of the requests
    spike = in_window(SPIKE, 1)
    frame = frame.with_columns(
        pl.when(spike).then(pl.col("latency_ms") * latency).otherwise("latency_ms").alias("latency_ms"),
        pl.when(spike & errors).then(failing).otherwise("is_error").alias("is_error"),
    )
    return frame.with_columns(flag_error=pl.col("is_error"))


def store_of(frame: pl.DataFrame, folder: Path) -> Path:
    store = folder / "store"
    history.append(store, profile_requests(frame.lazy(), every="1h"), run_id="run", inputs=["x"])
    return store


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, Path]:
    frame = eighty_an_hour()
    return frame, store_of(frame, tmp_path_factory.mktemp("eighty"))


@pytest.fixture(scope="module")
def found(planted: tuple[pl.DataFrame, Path]) -> Detection:
    return history.detect(planted[1], days=DAYS)


def test_a_6x_p95_at_80_an_hour_is_found_on_3_h_buckets(planted: tuple[pl.DataFrame, Path], found: Detection) -> None:
    frame, _ = planted
    p95 = found.anomalies.filter((pl.col("metric") == "p95(latency_ms)") & (pl.col("dimension") == "overall"))
    assert p95.select("bucket", "every").rows() == [(SPIKE_3H, "3h")]
    row = p95.row(0, named=True)
    bucket = frame.filter(in_window(SPIKE_3H, 3))
    assert row["n"] == bucket.height < 2 * 200  # an hour holds 80: only 3 h make the 200 a p95 needs
    # The detector reads the order statistic at rank (n - 1) · 0.95 off the merged sketch (within its 1 %).
    lower = np.percentile(bucket["latency_ms"].to_numpy(), 95, method="lower")
    assert row["value"] == pytest.approx(lower, rel=0.01)
    assert row["reference"] == "same 3 h of day, 6 day(s)"
    assert row["value"] > 3 * row["baseline"]
    # The scoring says so: p95 on 3 h buckets, error rate on hours.
    overall = found.scoring.filter(pl.col("dimension") == "overall")
    notes = dict(zip(overall["metric"], overall["note"], strict=True))
    assert notes["p95(latency_ms)"].startswith("scored on 3 h buckets, each hour on the finest that has 200 requests")
    assert notes["error_rate"].startswith("scored on 1 h buckets")


def test_hours_only_the_same_store_finds_no_latency_and_says_why(planted: tuple[pl.DataFrame, Path]) -> None:
    hourly = history.detect(planted[1], days=DAYS, rules=AnomalyRules(sizes=("1h",)))
    assert "p95(latency_ms)" not in set(hourly.anomalies["metric"])
    p95 = hourly.scoring.filter((pl.col("dimension") == "overall") & (pl.col("metric") == "p95(latency_ms)")).row(
        0, named=True
    )
    assert (p95["status"], p95["judged"], p95["thin"]) == (TOO_FEW, 0, DAYS * 24)
    assert p95["note"] == "not scored: fewer than 200 requests even per hour"


def test_the_spike_is_one_incident_with_both_metrics(planted: tuple[pl.DataFrame, Path], found: Detection) -> None:
    frame, _ = planted
    assert found.incidents.height == 1
    incident = found.incidents.row(0, named=True)
    assert (incident["start"], incident["end"]) == (SPIKE_3H, SPIKE_3H + timedelta(hours=3))
    assert set(incident["metrics"]) == {"p95(latency_ms)", "error_rate"}  # rate(error) is error_rate: once
    assert incident["groups"][:2] == ["overall", "route=/chat"]
    assert incident["anomalies"] == found.anomalies.height
    assert "rate(error)" not in set(found.scored["metric"])
    moves = {m["metric"]: m for m in incident["moves"]}
    hour = frame.filter(in_window(SPIKE, 1))
    errors = moves["error_rate"]
    assert (errors["every"], errors["bucket"]) == ("1h", SPIKE)
    assert errors["value"] == pytest.approx(hour["is_error"].mean())
    assert {"overall", "route=/chat"} <= set(errors["groups"])
    assert moves["p95(latency_ms)"]["every"] == "3h"


def test_every_hourly_verdict_is_kept_as_it_was(found: Detection, planted: tuple[pl.DataFrame, Path]) -> None:
    """Coarser buckets only add verdicts where hours are thin: the hourly rows are those of hours-only rules."""
    hourly = history.detect(planted[1], days=DAYS, rules=AnomalyRules(sizes=("1h",))).scored
    assert found.scored.filter(pl.col("every") == "1h").equals(hourly)


def test_each_hour_is_counted_once_and_coarse_buckets_only_where_hours_are_thin(found: Detection) -> None:
    scoring = found.scoring
    assert (scoring["judged"] + scoring["waiting"] + scoring["thin"] == scoring["hours"]).all()
    overall = scoring.filter(pl.col("dimension") == "overall")
    assert (overall["hours"] == DAYS * 24).all()
    # A 3 h bucket is listed only where some hour in it could not be judged on its own.
    coarse = found.scored.filter((pl.col("every") == "3h") & (pl.col("metric") == "error_rate"))
    hourly = found.scored.filter((pl.col("every") == "1h") & (pl.col("metric") == "error_rate"))
    for row in coarse.iter_rows(named=True):
        inside = hourly.filter(
            (pl.col("dimension") == row["dimension"])
            & (pl.col("key").eq_missing(row["key"]))
            & (pl.col("bucket") >= row["bucket"])
            & (pl.col("bucket") < row["bucket"] + timedelta(hours=3))
        )
        assert inside.height < 3


def test_coarser_buckets_are_the_hours_merged_exactly() -> None:
    """Merging hourly rows into 3 h ones gives what profiling the requests per 3 h gives (counts, sketches)."""
    frame = make_requests(2_000, seed=3, span=timedelta(hours=30), flags={"refusal": 0.05})
    merged = hourly_series(coarsen(profile_requests(frame.lazy(), every="1h"), "3h"))
    direct = hourly_series(profile_requests(frame.lazy(), every="3h"))
    keys = ["bucket", "dimension", "key", "metric"]
    merged, direct = merged.sort(keys, nulls_last=True), direct.sort(keys, nulls_last=True)
    assert merged.drop("value", "se").equals(direct.drop("value", "se"))  # the same buckets, counts and sizes
    # Sums of costs in another order differ in the last bits; the p95 (one sketch bucket) is exact.
    assert_frame_equal(merged, direct, check_exact=False, rel_tol=1e-9)


def test_a_metric_too_thin_even_per_day_is_named_with_why(tmp_path: Path) -> None:
    frame = make_requests(DAYS * 24 * 4, seed=7, span=timedelta(days=DAYS), routes=("/chat",))  # 96 a day
    detection = history.detect(store_of(frame, tmp_path), days=DAYS, by=("overall",))
    rows = {r["metric"]: r for r in detection.scoring.iter_rows(named=True)}
    p95 = rows["p95(latency_ms)"]
    assert (p95["status"], p95["sizes"], p95["judged"], p95["thin"]) == (TOO_FEW, [], 0, p95["hours"])
    assert p95["note"] == "not scored: fewer than 200 requests even per day"
    assert p95["hours"] == frame.select(pl.col("start").dt.truncate("1h").n_unique()).item()
    assert rows["error_rate"]["status"] in (SCORED, PARTLY)  # 4 an hour: scored on 6 h buckets
    assert "6 h" in rows["error_rate"]["note"]
    assert detection.unscored.get_column("metric").to_list() == sorted(
        m for m, r in rows.items() if r["status"] != SCORED
    )


def test_a_young_store_says_it_has_no_baseline_yet(tmp_path: Path) -> None:
    frame = eighty_an_hour(latency=1.0, errors=False).filter(pl.col("start") < T0 + timedelta(days=2))
    detection = history.detect(store_of(frame, tmp_path), days=DAYS, by=("overall",))
    p95 = detection.scoring.filter(pl.col("metric") == "p95(latency_ms)").row(0, named=True)
    assert (p95["status"], p95["sizes"]) == (NO_BASELINE, ["3h"])
    # 3 earlier days of each 3 h of the day, then a day of 3 h buckets judged against them for a spread.
    assert p95["note"] == "not scored yet: no baseline until the 3 h buckets have about 4 earlier days"
    errors = detection.scoring.filter(pl.col("metric") == "error_rate").row(0, named=True)
    assert errors["status"] == PARTLY and errors["waiting"] == 12  # the first 12 hours wait for 12 earlier ones


def test_history_json_and_terminal_show_incidents_and_scoring(planted: tuple[pl.DataFrame, Path]) -> None:
    store = str(planted[1])
    env = {"COLUMNS": "100", "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None}
    document = json.loads(CliRunner().invoke(app, ["history", store, "--days", "8", "-f", "json"], env=env).output)
    assert len(document["incidents"]) == 1
    incident = document["incidents"][0]
    assert incident["start"] == f"{SPIKE_3H:%Y-%m-%dT%H:%M:%S}Z"
    assert {m["metric"]: m["every"] for m in incident["moves"]} == {"p95(latency_ms)": "3h", "error_rate": "1h"}
    assert {a["every"] for a in document["anomalies"]} == {"1h", "3h"}
    assert any(s["metric"] == "p95(latency_ms)" and s["sizes"] == ["3h"] for s in document["scoring"])
    shown = CliRunner().invoke(app, ["history", store, "--days", "8"], env=env).output
    assert "Incidents in the last 8 day(s): 1" in shown
    assert f"{SPIKE_3H:%Y-%m-%d %H:%M} →" in shown
    assert "Scoring: metrics on coarser buckets, or not (wholly) scored" in shown
    assert "p95(latency_ms): overall, route=/chat" in shown  # on the line of its note
    p95 = next(r for r in document["scoring"] if r["metric"] == "p95(latency_ms)" and r["dimension"] == "overall")
    assert p95["note"].startswith("scored on 3 h buckets, each hour on the finest that has 200 requests")


# -- incidents, against a plain interval sweep ------------------------------------------------------------

SIZE_HOURS = {"1h": 1, "3h": 3, "6h": 6, "1d": 24}
GROUPS = [("overall", None), ("route", "/chat"), ("model", "gpt-4o")]
METRICS = ["p95(latency_ms)", "error_rate", "cost_per_1k"]


def sweep(rows: list[dict[str, Any]]) -> list[tuple[datetime, datetime, set[str], set[str], int]]:
    """Incidents the slow way: intervals sorted by start; one that starts after all before it ended opens one."""
    out: list[tuple[datetime, datetime, set[str], set[str], int]] = []
    for row in sorted(rows, key=lambda r: (r["bucket"], SIZE_HOURS[r["every"]])):
        start, end = row["bucket"], row["bucket"] + timedelta(hours=SIZE_HOURS[row["every"]])
        group = "overall" if row["dimension"] == "overall" else f"{row['dimension']}={row['key']}"
        if out and start <= out[-1][1]:
            first, last, metrics, groups, n = out[-1]
            out[-1] = (first, max(last, end), metrics | {row["metric"]}, groups | {group}, n + 1)
        else:
            out.append((start, end, {row["metric"]}, {group}, 1))
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 24 * 6),
            st.sampled_from(list(SIZE_HOURS)),
            st.sampled_from(GROUPS),
            st.sampled_from(METRICS),
            st.floats(3.5, 40),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_incidents_are_the_overlapping_buckets_merged(
    drawn: list[tuple[int, str, tuple[str, str | None], str, float]],
) -> None:
    rows = [
        {
            "bucket": T0 + timedelta(hours=h // SIZE_HOURS[e] * SIZE_HOURS[e]),  # T0 is a midnight
            "every": e,
            "dimension": dimension,
            "key": key,
            "metric": metric,
            "value": 2.0,
            "baseline": 1.0,
            "score": score,
        }
        for h, e, (dimension, key), metric, score in drawn
    ]
    frame = pl.DataFrame(rows, schema_overrides={"bucket": pl.Datetime("us", "UTC")})
    incidents = group_incidents(frame)
    expected = sweep(rows)
    got = [
        (r["start"], r["end"], set(r["metrics"]), set(r["groups"]), r["anomalies"])
        for r in incidents.iter_rows(named=True)
    ]
    assert got == expected
    assert incidents["incident"].to_list() == list(range(1, len(expected) + 1))
    for r in incidents.iter_rows(named=True):
        assert len(r["metrics"]) == len(set(r["metrics"]))  # each metric once, with its strongest bucket
        assert r["score"] == max(m["score"] for m in r["moves"])
        assert r["groups"][0] == "overall" or "overall" not in r["groups"]


def test_a_scoring_line_names_metrics_and_groups_in_the_same_state() -> None:
    flags = [f"rate(flag{i})" for i in range(5)]
    rows = [
        {"dimension": d, "key": k, "metric": m, "status": SCORED, "sizes": ["1h"] if d == "overall" else ["3h"]}
        for d, k in (("overall", None), ("model", "a"), ("model", "b"))
        for m in ["error_rate", *flags]
    ]
    scoring = pl.DataFrame(rows).with_columns(
        note=pl.when(pl.col("dimension") == "overall").then(pl.lit("hourly")).otherwise(pl.lit("coarse"))
    )
    (row,) = scoring_rows(scoring)  # the hourly ones are worth no line
    assert row.note == "coarse" and row.parts == [(["error_rate", *flags], ["model=a", "model=b"])]
    assert scoring_text(row.parts[0]) == "error_rate, 5 flag rates: model=a, model=b"
    assert scoring_text(row.parts[0], groups_shown=1) == "error_rate, 5 flag rates: model=a and 1 more"
    assert scoring_text((["p95(latency_ms)"], None)) == "p95(latency_ms): every group"


@pytest.mark.parametrize("sizes", [(), ("3h", "1h"), ("1h", "1h"), ("5h",), ("2d",)])
def test_bucket_sizes_divide_a_day_finest_first(sizes: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="bucket size"):
        AnomalyRules(sizes=sizes)


def test_an_hour_no_finer_bucket_judged_gets_a_coarser_one_though_finer_buckets_span_empty_hours(
    tmp_path: Path,
) -> None:
    """Hours 00 and 01 fill a 3 h bucket (which also spans the empty 02); hour 05 alone is too thin for its
    own 3 h bucket, so the 6 h bucket must judge it. Counting the empty 02 as covered once left 05 out and
    reported it as too thin even per day."""
    parts = [
        make_requests(n, seed=10 * day + hour, start=T0 + timedelta(days=day, hours=hour), span=timedelta(minutes=59))
        for day in range(8)
        for hour, n in ((0, 110), (1, 110), (5, 20))
    ]
    store = tmp_path / "store"
    history.append(store, profile_requests(pl.concat(parts).lazy(), every="1h"), run_id="r", inputs=["x"])
    detection = history.detect(store, days=8)
    p95 = (pl.col("metric") == "p95(latency_ms)") & (pl.col("dimension") == "overall")
    assert set(detection.scored.filter(p95).get_column("every")) == {"3h", "6h"}
    (row,) = detection.scoring.filter(p95).to_dicts()
    assert row["sizes"] == ["3h", "6h"] and row["thin"] == 0 and row["hours"] == 24


def test_a_note_waiting_for_a_baseline_also_names_the_hours_too_thin_to_judge() -> None:
    from aiobs.incidents import scoring_note

    row = {"status": NO_BASELINE, "sizes": ["3h"], "needs": 200, "waiting": 5, "thin": 3}
    note = scoring_note(row, AnomalyRules())
    assert note.startswith("not scored yet: no baseline until the 3 h buckets have about")
    assert note.endswith("; other hours: fewer than 200 requests even per day")
    assert "other hours" not in scoring_note({**row, "thin": 0}, AnomalyRules())
