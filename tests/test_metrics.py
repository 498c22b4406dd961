"""Metrics over request tables, checked against numpy and plain-Python sums."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest

from aiobs.errors import UsageError
from aiobs.metrics import (
    MAX_TIME_BUCKETS,
    PERCENTILES,
    TTFT_PERCENTILES,
    cost_comparison,
    is_thin,
    summarize_requests,
    thin_percentiles,
)
from aiobs.schema import CHILD_STAGES, REQUEST_SCHEMA
from aiobs.views.records import metrics_record

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
DEFAULTS: dict[str, Any] = {
    "has_root": True,
    "models": [],
    "is_error": False,
    "retries": 0,
    "n_events": 1,
    "skewed_events": 0,
}


def req(i: int, latency: float | None, **extra: Any) -> dict[str, Any]:
    return {"correlation_id": f"r{i}", "latency_ms": latency, "start": T0 + timedelta(seconds=i), **extra}


def table(rows: list[dict[str, Any]]) -> pl.LazyFrame:
    data = {name: [{**DEFAULTS, **r}.get(name) for r in rows] for name in REQUEST_SCHEMA}
    return pl.DataFrame(data, schema=REQUEST_SCHEMA).lazy()


def close(a: float | None, b: float, rel: float = 1e-9) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def np_pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values, dtype=np.float64), q * 100, method="linear"))


def assert_percentiles(row: dict[str, Any], values: list[float], prefix: str = "latency") -> None:
    names = PERCENTILES if prefix == "latency" else TTFT_PERCENTILES
    for name, q in names:
        got = row[f"{prefix}_{name}"]
        want = np_pct(values, q)
        assert close(got, want), (name, got, want)


# -- overall ---------------------------------------------------------------------------------------------


def test_overall_percentiles_mean_max_match_numpy() -> None:
    rng = random.Random(1)
    values = [rng.lognormvariate(7, 1.2) for _ in range(1234)]
    row = summarize_requests(table([req(i, v) for i, v in enumerate(values)])).row(0, named=True)
    assert_percentiles(row, values)
    assert close(row["latency_max"], max(values))
    assert close(row["latency_mean"], float(np.mean(values)))
    assert row["latency_n"] == len(values)
    assert row["requests"] == len(values)


@pytest.mark.parametrize("values", [[5.0], [1.0, 2.0], [3.0, 1.0, 2.0], [10.0, 10.0, 10.0, 20.0], [0.0, 1e6]])
def test_small_lists_interpolate_like_numpy(values: list[float]) -> None:
    row = summarize_requests(table([req(i, v) for i, v in enumerate(values)])).row(0, named=True)
    assert_percentiles(row, values)


def test_null_latencies_are_left_out_of_percentiles_but_counted_as_requests() -> None:
    values = [100.0, 200.0, 300.0, 400.0, 1000.0]
    rows = [req(i, v) for i, v in enumerate(values)] + [req(10 + i, None) for i in range(3)]
    row = summarize_requests(table(rows)).row(0, named=True)
    assert_percentiles(row, values)
    assert row["latency_n"] == 5
    assert row["requests"] == 8


def test_error_rate_retries_and_tokens() -> None:
    rng = random.Random(2)
    rows = []
    for i in range(500):
        rows.append(
            req(
                i,
                rng.uniform(10, 1000),
                is_error=rng.random() < 0.07,
                retries=rng.choice([0, 0, 0, 1, 2]),
                input_tokens=rng.choice([None, rng.randint(0, 9000)]),
                output_tokens=rng.choice([None, rng.randint(0, 900)]),
                cached_tokens=rng.choice([None, None, rng.randint(0, 500)]),
            )
        )
    row = summarize_requests(table(rows)).row(0, named=True)
    errors = sum(r["is_error"] for r in rows)
    assert row["errors"] == errors
    assert close(row["error_rate"], errors / 500)
    assert row["retries"] == sum(r["retries"] for r in rows)
    for kind in ("input_tokens", "output_tokens", "cached_tokens"):
        assert row[kind] == sum(r[kind] for r in rows if r[kind] is not None)
    assert row["reasoning_tokens"] is None  # never logged: unknown, not 0


def test_cost_and_cost_per_1k_requests() -> None:
    rng = random.Random(3)
    costs = [rng.uniform(0, 0.05) for _ in range(250)]
    logged = [rng.choice([None, c * 1.01]) for c in costs]
    rows = [req(i, 100.0, cost_usd=c, logged_cost_usd=lc) for i, (c, lc) in enumerate(zip(costs, logged, strict=True))]
    row = summarize_requests(table(rows)).row(0, named=True)
    assert close(row["cost_usd"], math.fsum(costs))
    assert close(row["cost_per_1k_requests"], math.fsum(costs) / 250 * 1000)
    assert row["priced_requests"] == 250
    assert close(row["logged_cost_usd"], math.fsum(x for x in logged if x is not None))


def test_no_priced_request_gives_null_cost_not_zero() -> None:
    row = summarize_requests(table([req(i, 10.0) for i in range(5)])).row(0, named=True)
    assert row["cost_usd"] is None
    assert row["cost_per_1k_requests"] is None
    assert row["priced_requests"] == 0


def test_ttft_percentiles_and_output_tokens_per_second() -> None:
    rng = random.Random(4)
    rows = []
    for i in range(300):
        llm_ms = rng.choice([None, rng.uniform(100, 5000)])
        rows.append(
            req(
                i,
                rng.uniform(10, 1000),
                ttft_ms=rng.choice([None, rng.uniform(50, 900)]),
                output_tokens=rng.randint(1, 800),
                llm_output_ms=llm_ms,
            )
        )
    row = summarize_requests(table(rows)).row(0, named=True)
    ttfts = [r["ttft_ms"] for r in rows if r["ttft_ms"] is not None]
    assert_percentiles(row, ttfts, prefix="ttft")
    assert row["ttft_n"] == len(ttfts)
    timed = [r for r in rows if r["llm_output_ms"] is not None]
    want = sum(r["output_tokens"] for r in timed) / (math.fsum(r["llm_output_ms"] for r in timed) / 1000)
    assert close(row["output_tokens_per_s"], want)


def test_output_tokens_per_second_is_null_without_timed_llm_output() -> None:
    row = summarize_requests(table([req(i, 5.0, output_tokens=10) for i in range(3)])).row(0, named=True)
    assert row["output_tokens_per_s"] is None


# -- groups ----------------------------------------------------------------------------------------------


def random_requests(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", None]
    routes = ["/chat", "/rag/answer"]
    return [
        req(
            i,
            rng.lognormvariate(6, 1),
            model=rng.choices(models, weights=[5, 3, 2, 1])[0],
            route=rng.choice(routes),
            is_error=rng.random() < 0.1,
            cost_usd=rng.uniform(0, 0.02),
            output_tokens=rng.randint(0, 500),
        )
        for i in range(n)
    ]


def test_grouped_by_model_matches_per_group_references() -> None:
    rows = random_requests(900, seed=5)
    result = summarize_requests(table(rows), ["model"])
    by_model: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_model[r["model"]].append(r)
    assert result.height == len(by_model)
    assert result["requests"].to_list() == sorted((len(v) for v in by_model.values()), reverse=True)
    for row in result.iter_rows(named=True):
        group = by_model[row["model"]]
        n = len(group)
        errors = sum(r["is_error"] for r in group)
        cost = math.fsum(r["cost_usd"] for r in group)
        assert row["requests"] == n
        assert row["errors"] == errors
        assert close(row["error_rate"], errors / n)
        assert_percentiles(row, [r["latency_ms"] for r in group])
        assert close(row["cost_usd"], cost)
        assert close(row["cost_per_1k_requests"], cost / n * 1000)
        assert row["output_tokens"] == sum(r["output_tokens"] for r in group)


def test_grouped_by_model_and_route() -> None:
    rows = random_requests(600, seed=6)
    result = summarize_requests(table(rows), ["model", "route"])
    groups: dict[tuple[str | None, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["model"], r["route"])].append(r)
    assert result.height == len(groups)
    for row in result.iter_rows(named=True):
        group = groups[(row["model"], row["route"])]
        assert row["requests"] == len(group)
        assert_percentiles(row, [r["latency_ms"] for r in group])


# -- thin percentiles ------------------------------------------------------------------------------------


def values_above_percentile(n: int, q: float) -> int:
    values = np.arange(1, n + 1, dtype=np.float64)
    return int((values > np.percentile(values, q * 100)).sum())


@pytest.mark.parametrize(("n", "q", "thin"), [(40, 0.99, True), (5000, 0.99, False), (5000, 0.999, True)])
def test_thin_percentiles(n: int, q: float, thin: bool) -> None:
    assert (values_above_percentile(n, q) < 10) is thin  # the reference: fewer than 10 values above it
    assert is_thin(n, q) is thin
    name = next(name for name, qq in PERCENTILES if qq == q)
    assert (name in thin_percentiles(n)) is thin
    row = summarize_requests(table([req(i, float(i)) for i in range(n)])).row(0, named=True)
    assert (name in metrics_record(row)["latency_ms"]["thin"]) is thin


def test_p50_of_forty_is_not_thin() -> None:
    assert "p50" not in thin_percentiles(40)
    assert "p90" in thin_percentiles(40)  # 4 values above p90


# -- time buckets and stages -----------------------------------------------------------------------------


def test_every_gives_time_buckets() -> None:
    rng = random.Random(7)
    rows = []
    for i in range(400):
        start = T0 + timedelta(minutes=rng.uniform(0, 5 * 60))
        rows.append({**req(i, rng.uniform(1, 1000)), "start": start})
    result = summarize_requests(table(rows), [], every="1h")
    buckets: dict[datetime, list[float]] = defaultdict(list)
    for r in rows:
        buckets[r["start"].replace(minute=0, second=0, microsecond=0)].append(r["latency_ms"])
    assert result["time"].to_list() == sorted(buckets)
    for row in result.iter_rows(named=True):
        values = buckets[row["time"]]
        assert row["requests"] == len(values)
        assert_percentiles(row, values)


def test_every_with_a_group_key() -> None:
    rows = [
        {**req(i, float(i)), "start": T0 + timedelta(minutes=20 * i), "model": "a" if i % 3 else "b"} for i in range(12)
    ]
    result = summarize_requests(table(rows), ["model"], every="1h")
    got = sorted((r["time"], r["model"], r["requests"]) for r in result.iter_rows(named=True))
    counts: dict[tuple[datetime, str], int] = defaultdict(int)
    for r in rows:
        counts[(r["start"].replace(minute=0), r["model"])] += 1
    assert got == sorted((t, m, c) for (t, m), c in counts.items())
    assert result["time"].to_list() == sorted(result["time"].to_list())  # time buckets in order


def test_every_fifteen_minutes() -> None:
    rows = [{**req(i, 1.0), "start": T0 + timedelta(minutes=7 * i)} for i in range(10)]  # 0..63 min
    result = summarize_requests(table(rows), [], every="15m")
    counts: dict[datetime, int] = defaultdict(int)
    for r in rows:
        s = r["start"]
        counts[s.replace(minute=s.minute - s.minute % 15, second=0)] += 1
    assert list(zip(result["time"].to_list(), result["requests"].to_list(), strict=True)) == sorted(counts.items())


def test_empty_buckets_fill_the_gaps_between_the_first_and_last_bucket() -> None:
    hours = [0, 0, 1, 4, 4, 4, 7]  # no request in hours 2, 3, 5 and 6
    rows = [{**req(i, 100.0 * (i + 1)), "start": T0 + timedelta(hours=h, minutes=5)} for i, h in enumerate(hours)]
    result = summarize_requests(table(rows), [], every="1h", flags=["error"], empty_buckets=True)
    assert result["time"].to_list() == [T0 + timedelta(hours=h) for h in range(8)]
    assert result["requests"].to_list() == [hours.count(h) for h in range(8)]
    empty = result.filter(pl.col("requests") == 0)
    assert empty.height == 4
    assert empty["errors"].to_list() == [0] * 4 and empty["latency_n"].to_list() == [0] * 4
    assert empty["latency_p50"].null_count() == 4 and empty["cost_usd"].null_count() == 4
    # The filled rows change nothing in the buckets that had requests.
    plain = summarize_requests(table(rows), [], every="1h", flags=["error"])
    assert result.filter(pl.col("requests") > 0).equals(plain)


def test_empty_buckets_are_not_added_without_the_option_or_with_other_keys() -> None:
    rows = [{**req(i, 1.0), "start": T0 + timedelta(hours=3 * i), "model": "m"} for i in range(3)]
    assert summarize_requests(table(rows), [], every="1h").height == 3
    assert summarize_requests(table(rows), ["model"], every="1h", empty_buckets=True).height == 3


def test_empty_buckets_in_calendar_months() -> None:
    starts = [datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)]
    rows = [{**req(i, 1.0), "start": s} for i, s in enumerate(starts)]
    result = summarize_requests(table(rows), [], every="1mo", empty_buckets=True)
    assert result["time"].to_list() == [datetime(2026, m, 1, tzinfo=UTC) for m in (1, 2, 3, 4)]
    assert result["requests"].to_list() == [1, 0, 0, 1]


@pytest.mark.parametrize(("seconds", "ok"), [(MAX_TIME_BUCKETS - 1, True), (MAX_TIME_BUCKETS, False), (10**7, False)])
def test_more_time_buckets_than_the_limit_is_a_usage_error(seconds: int, ok: bool) -> None:
    rows = [{**req(0, 1.0), "start": T0}, {**req(1, 1.0), "start": T0 + timedelta(seconds=seconds)}]
    if ok:
        assert summarize_requests(table(rows), [], every="1s", empty_buckets=True).height == MAX_TIME_BUCKETS
    else:
        with pytest.raises(UsageError, match=r"--every 1s makes .* time buckets"):
            summarize_requests(table(rows), [], every="1s", empty_buckets=True)


def test_stage_grouping() -> None:
    rng = random.Random(8)
    rows = []
    for i in range(300):
        stages = {f"{s}_ms": (rng.uniform(1, 500) if rng.random() < 0.6 else None) for s in CHILD_STAGES}
        rows.append(req(i, rng.uniform(500, 2000), is_error=rng.random() < 0.2, input_tokens=10, **stages))
    result = summarize_requests(table(rows), ["stage"])
    expected = {s: [r for r in rows if r[f"{s}_ms"] is not None] for s in CHILD_STAGES}
    assert sorted(result["stage"].to_list()) == sorted(s for s, group in expected.items() if group)
    for row in result.iter_rows(named=True):
        group = expected[row["stage"]]
        assert row["requests"] == len(group)
        assert row["errors"] == sum(r["is_error"] for r in group)
        assert_percentiles(row, [r[f"{row['stage']}_ms"] for r in group])
        assert row["input_tokens"] is None  # tokens belong to the request, not to a stage


def test_stage_rows_have_no_decoding_speed() -> None:
    # Output tokens are the request's, so a stage's tokens/s would be 0 tokens over its time: unknown, not 0.
    rows = [req(i, 900.0, llm_ms=800.0, retrieval_ms=50.0, output_tokens=200, llm_output_ms=800.0) for i in range(5)]
    assert close(summarize_requests(table(rows))["output_tokens_per_s"].item(), 250.0)
    by_stage = summarize_requests(table(rows), ["stage"])
    assert by_stage.height == 2
    assert by_stage["output_tokens_per_s"].to_list() == [None, None]


def test_stage_grouping_with_model() -> None:
    rows = [
        req(0, 100.0, model="a", llm_ms=50.0, retrieval_ms=10.0),
        req(1, 100.0, model="a", llm_ms=70.0),
        req(2, 100.0, model="b", retrieval_ms=30.0),
    ]
    result = summarize_requests(table(rows), ["stage", "model"])
    got = sorted((r["stage"], r["model"], r["requests"], r["latency_p50"]) for r in result.iter_rows(named=True))
    assert got == [("llm", "a", 2, 60.0), ("retrieval", "a", 1, 10.0), ("retrieval", "b", 1, 30.0)]


def test_cost_comparison_only_uses_requests_with_both_costs() -> None:
    rows = [
        req(0, 1.0, model="a", cost_usd=0.10, logged_cost_usd=0.12),
        req(1, 1.0, model="a", cost_usd=0.20, logged_cost_usd=0.18),
        req(2, 1.0, model="a", cost_usd=0.50),
        req(3, 1.0, model="b", logged_cost_usd=0.40),
        req(4, 1.0, model="b", cost_usd=0.01, logged_cost_usd=0.02),
    ]
    result = {r["model"]: r for r in cost_comparison(table(rows)).iter_rows(named=True)}
    assert set(result) == {"a", "b"}
    assert result["a"]["requests"] == 2
    assert close(result["a"]["logged_cost_usd"], 0.30)
    assert close(result["a"]["priced_cost_usd"], 0.30)
    assert close(result["a"]["difference_usd"] + 1.0, 1.0)
    assert result["b"]["requests"] == 1
    assert close(result["b"]["difference_usd"], 0.01)


def test_groups_with_as_many_requests_come_out_in_one_order_whatever_the_input_order() -> None:
    rows = [req(i, 100.0, user=f"u{i % 30:02d}", model="m", cost_usd=0.01, logged_cost_usd=0.01) for i in range(60)]
    rows += [req(100 + i, 100.0, user="busy", model=f"x{i % 3}", cost_usd=0.01, logged_cost_usd=0.02) for i in range(9)]
    orders = set()
    for seed in range(5):
        random.Random(seed).shuffle(rows)
        users = summarize_requests(table(rows), ["user"]).get_column("user").to_list()
        models = cost_comparison(table(rows)).get_column("model").to_list()
        orders.add((tuple(users), tuple(models)))
    assert orders == {(("busy", *(f"u{i:02d}" for i in range(30))), ("m", "x0", "x1", "x2"))}
