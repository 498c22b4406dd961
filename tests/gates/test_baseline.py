"""Baseline comparisons on synthetic runs: a planted regression is found, pure noise is not.

The false-positive claim (docs/ci.md): when nothing changed, a run reports a regression with
probability at most (1 − confidence) / 2 = 2.5 %, whatever the number of groups. 200 noise trials
with fixed seeds check it against a binomial bound; a single comparison with a 0 % gate checks that
the latency intervals are calibrated (neither too narrow nor uselessly wide).
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from statistics import NormalDist

import numpy as np
import orjson
import polars as pl
import pytest

from aiobs import sketch
from aiobs.gates.baseline import (
    DEFAULT_GATES,
    Baseline,
    compare,
    default_gates,
    is_summary_document,
    load_summary_baseline,
)
from aiobs.gates.expressions import parse_gate
from aiobs.gates.results import Comparison, Status
from aiobs.gates.stats import percentile_ratio
from aiobs.profiles import profile_requests, to_records
from synthetic import T0, make_requests

FLAGS = {"refusal": 0.02, "truncated": 0.01}
TRIALS = 200


def profiles(n: int, seed: int, **planted: object) -> pl.DataFrame:
    return profile_requests(make_requests(n, seed=seed, flags=FLAGS, **planted).lazy())  # type: ignore[arg-type]


def by_key(results: list[Comparison]) -> dict[tuple[str, str], Comparison]:
    return {(c.metric, c.group): c for c in results}


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def bound(n: int, p: float, tail: float = 0.001) -> int:
    """The smallest k with P(X >= k) <= tail: more hits than this would be implausible at rate p."""
    k = 0
    while binomial_tail(k, n, p) > tail:
        k += 1
    return k


BASE = profiles(4000, seed=1)


def test_planted_regressions_are_found_where_they_were_planted() -> None:
    current = profiles(
        4000,
        seed=2,
        slower={"gpt-4o": 1.4},
        error_rates={"claude-sonnet-4-5": 0.06},
        cost_factor={"gemini-2.5-flash": 1.5},
    )
    results, tested, level = compare(current, BASE, default_gates())
    found = {key for key, c in by_key(results).items() if c.status is Status.REGRESSED}
    assert ("p95(latency_ms)", "model=gpt-4o") in found
    assert ("error_rate", "model=claude-sonnet-4-5") in found
    assert ("cost_per_1k", "model=gemini-2.5-flash") in found
    # Nothing unplanted: only groups that contain a planted model (the model itself, the overall
    # mix and the routes and stages it runs through) may move.
    planted_models = {"model=gpt-4o", "model=claude-sonnet-4-5", "model=gemini-2.5-flash"}
    assert {group for _, group in found if group.startswith("model=")} <= planted_models
    assert not any(metric.startswith("rate(") or metric == "acceptance_rate" for metric, _ in found)
    assert tested > 20 and level == pytest.approx(1 - 0.05 / tested)
    slow = by_key(results)[("p95(latency_ms)", "model=gpt-4o")]
    assert slow.low is not None and slow.high is not None
    assert slow.low < 0.4 < slow.high  # the interval holds the planted +40 %
    assert slow.change == pytest.approx(slow.current / slow.baseline - 1)


def test_a_small_real_change_below_the_gate_is_not_a_regression() -> None:
    current = profiles(4000, seed=3, slower={"gpt-4o": 1.05})
    results, _, _ = compare(current, BASE, [parse_gate("p95=10% by model")])
    assert all(c.status is not Status.REGRESSED for c in results)


def test_flag_and_acceptance_regressions() -> None:
    worse = profile_requests(
        make_requests(4000, seed=4, flags={"refusal": 0.08, "truncated": 0.01}, acceptance=0.75).lazy()
    )
    results = by_key(compare(worse, BASE, [parse_gate("rate(*)=1pp"), parse_gate("acceptance_rate=5pp")])[0])
    assert results[("rate(refusal)", "overall")].status is Status.REGRESSED
    assert results[("rate(truncated)", "overall")].status is Status.OK
    assert results[("acceptance_rate", "overall")].status is Status.REGRESSED
    better = profile_requests(make_requests(4000, seed=5, flags={"refusal": 0.0, "truncated": 0.01}).lazy())
    improved = by_key(compare(better, BASE, [parse_gate("rate(refusal)=1pp")])[0])
    assert improved[("rate(refusal)", "overall")].status is Status.IMPROVED


def trial_profiles(seed: int) -> list[pl.DataFrame]:
    """TRIALS independent runs of 800 requests (2 models, 2 routes, 2 stages, a flag and feedback),
    profiled in one call: each run is one day of its own."""
    shape = {"models": ("gpt-4o", "claude-sonnet-4-5"), "flags": {"refusal": 0.02}, "span": timedelta(hours=1)}
    runs = [make_requests(800, seed=seed + t, start=T0 + timedelta(days=t), **shape) for t in range(TRIALS)]  # type: ignore[arg-type]
    every_day = profile_requests(pl.concat(runs).lazy(), every="1d")
    return [day.drop("bucket") for day in every_day.partition_by("bucket", maintain_order=True)]


def test_pure_noise_fails_no_more_often_than_stated() -> None:
    gates = default_gates()
    failing_runs = 0
    tested_total = 0
    for trial, (base, current) in enumerate(zip(trial_profiles(10_000), trial_profiles(20_000), strict=True)):
        results, tested, _ = compare(current, base, gates, seed=trial)
        tested_total += tested
        failing_runs += any(c.status is Status.REGRESSED for c in results)
    stated = (1 - 0.95) / 2
    assert tested_total / TRIALS > 20  # many comparisons per run: the correction is doing real work
    assert failing_runs < bound(TRIALS, stated), failing_runs


def numpy_sketch(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sketch's bucketing done independently with numpy: (bucket values, counts)."""
    keys, counts = np.unique(np.ceil(np.log(values) / sketch.LN_GAMMA).astype(np.int64), return_counts=True)
    return sketch.bucket_values(keys), counts


def test_a_single_zero_tolerance_comparison_is_calibrated() -> None:
    """With a 0 % gate a comparison fails exactly when its interval lies above zero: 2.5 % of noise runs."""
    z = NormalDist().inv_cdf(0.975)
    rng = np.random.default_rng(2026)
    hits = 0
    for _ in range(TRIALS):
        base, cur = rng.lognormal(7, 0.8, 1500), rng.lognormal(7, 0.8, 1500)
        point = (float(np.percentile(base, 95)), float(np.percentile(cur, 95)))
        estimate = percentile_ratio(numpy_sketch(base), numpy_sketch(cur), 0.95, z=z, rng=rng, point=point)
        assert estimate is not None
        hits += estimate.low > 0
    # Expected 5 of 200; far fewer would mean intervals too wide to catch anything, far more too narrow.
    assert 1 <= hits < bound(TRIALS, 0.025), hits


def test_groups_on_one_side_or_too_small_are_no_data() -> None:
    base = profiles(2000, seed=6, models=("gpt-4o", "claude-sonnet-4-5"))
    current = profiles(2000, seed=7, models=("gpt-4o", "o3-mini"), model_weights=(0.99, 0.01))
    results = by_key(compare(current, base, [parse_gate("error_rate=1pp by model")])[0])
    assert results[("error_rate", "model=claude-sonnet-4-5")].note == "not in the current run"
    assert results[("error_rate", "model=o3-mini")].note == "not in the baseline"
    assert results[("error_rate", "model=gpt-4o")].status is Status.OK
    enough = by_key(compare(current, base, [parse_gate("p95(latency_ms, model=gpt-4o)=10%")])[0])
    assert enough[("p95(latency_ms)", "model=gpt-4o")].status is Status.OK
    few = by_key(compare(profiles(300, seed=8), profiles(300, seed=9), [parse_gate("p99=10%")])[0])
    assert "too few latencies" in few[("p99(latency_ms)", "overall")].note


def test_no_data_everywhere_is_one_row() -> None:
    plain = profile_requests(make_requests(500, seed=1, flags=None, feedback_share=0).lazy())
    results = compare(plain, plain, [parse_gate("rate(*)=1pp"), parse_gate("acceptance_rate=5pp")])[0]
    assert [(c.metric, c.group, c.note) for c in results] == [
        ("rate(*)", "overall", "no quality flags in either run"),
        ("acceptance_rate", "overall", "no feedback in either run"),
    ]


def test_identical_runs_change_nothing() -> None:
    results, _, _ = compare(BASE, BASE, default_gates())
    tested = [c for c in results if c.status is not Status.NO_DATA]
    assert tested and all(c.status is Status.OK and c.change == pytest.approx(0.0) for c in tested)


def test_a_saved_summary_gives_the_same_comparisons_as_its_logs(tmp_path: Path) -> None:
    document = {"schema": "aiobs.summary/1", "overall": {"requests": 4000}, "profiles": to_records(BASE)}
    path = tmp_path / "baseline.json"
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    assert is_summary_document(path)
    saved = load_summary_baseline(path)
    current = profiles(4000, seed=2, slower={"gpt-4o": 1.3})
    from_logs = compare(current, BASE, default_gates())
    from_file = compare(current, saved.profiles, default_gates())
    assert from_file == from_logs


def test_an_older_summary_without_profiles_still_compares_rates(tmp_path: Path) -> None:
    record = {
        "requests": 2000,
        "errors": 20,
        "retries": 0,
        "latency_ms": {"p50": 1000.0, "p95": 3000.0, "n": 2000},
        "cost_usd": 4.0,
        "priced_requests": 2000,
    }
    document = {"schema": "aiobs.summary/1", "overall": record, "groups": {}}
    path = tmp_path / "old.json"
    path.write_bytes(orjson.dumps(document))
    old = load_summary_baseline(path)
    current = profiles(2000, seed=3)
    results = by_key(compare(current, old.profiles, default_gates())[0])
    assert results[("error_rate", "overall")].status is Status.OK
    assert "no latency sketch" in results[("p95(latency_ms)", "overall")].note
    assert "no cost spread" in results[("cost_per_1k", "overall")].note


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"schema": "aiobs.summary/9", "overall": {}}', "aiobs.summary/9"),
        (
            b'{"schema": "aiobs.summary/1", "overall": {"requests": 1}, "profiles": [{"dimension": "overall"}]}',
            "profile 1",
        ),
        (b'{"schema": "aiobs.summary/1"', "cannot read baseline"),
    ],
)
def test_broken_baselines_are_input_errors(tmp_path: Path, content: bytes, message: str) -> None:
    from aiobs.errors import InputError

    path = tmp_path / "b.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_summary_baseline(path)


def test_a_json_lines_log_is_not_a_summary(tmp_path: Path) -> None:
    log = tmp_path / "events.json"
    log.write_text('{"request_id": "a", "latency_ms": 3}\n{"request_id": "b"}\n')
    assert not is_summary_document(log)
    assert DEFAULT_GATES[0] == "p95=10%"
    assert isinstance(Baseline("x", BASE, 1).profiles, pl.DataFrame)
