"""The statistics behind baseline comparisons, against published values and brute-force numpy bootstraps."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import polars as pl
import pytest

from aiobs import sketch
from aiobs.gates.stats import bootstrap_quantiles, log_ratio_se, mean_ratio, percentile_ratio, proportion_difference

Z95 = NormalDist().inv_cdf(0.975)


@pytest.mark.parametrize(
    ("current", "baseline", "low", "high"),
    [
        # Newcombe (1998), "Interval estimation for the difference between independent proportions",
        # Statistics in Medicine 17:873-890, Table II, method 10 (the hybrid score interval).
        ((56, 70), (48, 80), 0.0524, 0.3339),
        ((9, 10), (3, 10), 0.1705, 0.8090),
        ((6, 7), (2, 7), 0.0582, 0.8062),
        ((5, 56), (0, 29), -0.0381, 0.1926),
        ((0, 10), (0, 20), -0.1611, 0.2775),
        ((0, 10), (0, 10), -0.2775, 0.2775),
        ((10, 10), (0, 20), 0.6791, 1.0000),
        ((10, 10), (0, 10), 0.6075, 1.0000),
    ],
)
def test_newcombe_interval_matches_the_published_table(
    current: tuple[int, int], baseline: tuple[int, int], low: float, high: float
) -> None:
    estimate = proportion_difference(*baseline, *current, z=Z95)
    assert estimate.value == pytest.approx(current[0] / current[1] - baseline[0] / baseline[1])
    assert round(estimate.low, 4) == pytest.approx(low, abs=1e-4)
    assert round(estimate.high, 4) == pytest.approx(high, abs=1e-4)


def sketch_arrays(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    bins = sketch.sketch_by(pl.DataFrame({"latency_ms": values}).lazy(), []).collect()["sketch"][0].to_list()
    return sketch.as_arrays(bins)


def test_sketch_bootstrap_se_matches_a_bootstrap_of_the_raw_values() -> None:
    rng = np.random.default_rng(11)
    base, cur = rng.lognormal(7, 0.7, 2000), rng.lognormal(7.1, 0.9, 1500)
    raw = []
    for _ in range(1000):
        b = np.percentile(rng.choice(base, base.size), 95)
        c = np.percentile(rng.choice(cur, cur.size), 95)
        raw.append(math.log(c / b))
    reference = float(np.std(raw, ddof=1))
    se = log_ratio_se(sketch_arrays(base), sketch_arrays(cur), 0.95, rng=np.random.default_rng(0), resamples=1000)
    assert se == pytest.approx(reference, rel=0.12)


def test_pooling_far_buckets_does_not_change_the_bootstrap() -> None:
    values, counts = sketch_arrays(np.random.default_rng(2).lognormal(7, 1.0, 5000))
    pooled = bootstrap_quantiles(values, counts, 0.99, rng=np.random.default_rng(1), resamples=4000)
    full = sketch.resampled_quantiles(values, np.random.default_rng(1).poisson(counts, size=(4000, counts.size)), 0.99)
    assert pooled is not None and full is not None
    assert np.mean(np.log(pooled)) == pytest.approx(np.mean(np.log(full)), abs=0.005)
    assert np.std(np.log(pooled)) == pytest.approx(np.std(np.log(full)), rel=0.08)


def test_percentile_ratio_uses_the_exact_point_and_a_symmetric_log_interval() -> None:
    rng = np.random.default_rng(5)
    base, cur = sketch_arrays(rng.lognormal(7, 0.7, 3000)), sketch_arrays(rng.lognormal(7.2, 0.7, 3000))
    estimate = percentile_ratio(base, cur, 0.95, z=Z95, rng=np.random.default_rng(0), point=(1000.0, 1200.0))
    assert estimate is not None
    assert estimate.value == pytest.approx(0.2)
    assert math.log1p(estimate.high) - math.log(1.2) == pytest.approx(math.log(1.2) - math.log1p(estimate.low))
    assert estimate.low > 0  # exp(0.2) apart at n = 3000 is far beyond noise


def test_mean_ratio_matches_a_bootstrap_of_means() -> None:
    rng = np.random.default_rng(8)
    base, cur = rng.gamma(2.0, 0.001, 4000), rng.gamma(2.0, 0.0011, 3000)
    estimate = mean_ratio((base.sum(), (base**2).sum(), base.size), (cur.sum(), (cur**2).sum(), cur.size), z=Z95)
    assert estimate is not None
    assert estimate.value == pytest.approx(cur.mean() / base.mean() - 1)
    boot = [math.log(rng.choice(cur, cur.size).mean() / rng.choice(base, base.size).mean()) for _ in range(800)]
    se = (math.log1p(estimate.high) - math.log1p(estimate.low)) / (2 * Z95)
    assert se == pytest.approx(float(np.std(boot, ddof=1)), rel=0.12)
    assert mean_ratio((0.0, 0.0, 10), (1.0, 1.0, 10), z=Z95) is None
