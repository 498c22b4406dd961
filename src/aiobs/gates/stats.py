"""The statistics behind baseline comparisons. Each returns an estimate and a two-sided interval at `z`.

- Latency percentiles: the ratio current / baseline. Its standard error (on the log scale) comes from
  a bootstrap that resamples each side's latency sketch: resampling the values of a histogram is
  redrawing its bucket counts, so `resamples` bootstrap samples are one `(resamples × buckets)` array
  of Poisson draws and their percentiles are read off cumulative sums, all vectorised (no loop over
  resamples or values). The interval is `ratio · exp(±z · se)`.
- Rates (errors, flags, acceptance): the difference of two proportions with Newcombe's hybrid score
  interval (from Wilson intervals; sound at rates of 0 and with small counts, unlike the Wald interval).
- Cost per request: the ratio of two means, standard error of its log by the delta method from each
  side's sum and sum of squares (so a saved summary needs only those two numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aiobs import sketch

#: Bootstrap resamples per side. The bootstrap only supplies a standard error here (the interval is
#: normal on the log scale), and a few hundred resamples estimate a standard error to within a few
#: per cent (Efron and Tibshirani, "An Introduction to the Bootstrap", 1993, section 6.4).
RESAMPLES = 500


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float


def percentile_ratio(
    baseline: tuple[np.ndarray, np.ndarray],
    current: tuple[np.ndarray, np.ndarray],
    q: float,
    *,
    z: float,
    rng: np.random.Generator,
    resamples: int = RESAMPLES,
    point: tuple[float, float] | None = None,
) -> Estimate | None:
    """current_q / baseline_q − 1 with its interval. Sketches are (bucket values, counts).

    `point` gives exact (baseline, current) percentiles for the estimate; the sketches then only
    supply its spread. None when a percentile is zero (no ratio).
    """
    se = log_ratio_se(baseline, current, q, rng=rng, resamples=resamples)
    if point is None:
        base = sketch.array_quantile(*baseline, q)
        cur = sketch.array_quantile(*current, q)
        if base is None or cur is None:
            return None
        point = (base, cur)
    if se is None or point[0] <= 0 or point[1] <= 0:
        return None
    log_ratio = math.log(point[1] / point[0])
    return Estimate(math.expm1(log_ratio), math.expm1(log_ratio - z * se), math.expm1(log_ratio + z * se))


def log_ratio_se(
    baseline: tuple[np.ndarray, np.ndarray],
    current: tuple[np.ndarray, np.ndarray],
    q: float,
    *,
    rng: np.random.Generator,
    resamples: int = RESAMPLES,
) -> float | None:
    """Bootstrap standard error of log(current_q / baseline_q)."""
    draws = []
    for values, counts in (baseline, current):
        quantiles = bootstrap_quantiles(values, counts, q, rng=rng, resamples=resamples)
        if quantiles is None or (quantiles <= 0).any():
            return None
        draws.append(np.log(quantiles))
    return float(np.std(draws[1] - draws[0], ddof=1))


#: Buckets further than this many standard deviations of the percentile's rank are pooled (see below).
_BAND_SIGMAS = 6.0


def bootstrap_quantiles(
    values: np.ndarray, counts: np.ndarray, q: float, *, rng: np.random.Generator, resamples: int = RESAMPLES
) -> np.ndarray | None:
    """The percentile q of `resamples` Poisson-bootstrap resamples of a sketch.

    Each bucket's resampled count is Poisson(count) (the Poisson bootstrap: the multinomial's
    large-sample twin, with independent buckets). A resample's percentile depends only on the
    buckets near the percentile's rank, so the buckets more than 6 standard deviations of that rank
    below or above it are pooled into one bucket each (a sum of Poisson counts is Poisson with
    the summed mean): the draw is then a few dozen buckets wide whatever the sketch's size.
    """
    n = int(counts.sum())
    if n == 0:
        return None
    cum = np.cumsum(counts)
    rank = (n - 1) * q
    spread = _BAND_SIGMAS * math.sqrt(n * q * (1 - q)) + 2
    first = int(np.searchsorted(cum, rank - spread, side="right"))
    last = min(int(np.searchsorted(cum, rank + spread, side="right")), len(counts) - 1)
    below = int(cum[first - 1]) if first > 0 else 0
    above = n - int(cum[last])
    # A pooled bucket takes the value of its nearest kept bucket; a resample's percentile lands there
    # only if its rank moves more than 6 standard deviations (odds of about 1 in 10⁹).
    band_values = np.concatenate(([values[first]], values[first : last + 1], [values[last]]))
    band_counts = np.concatenate(([below], counts[first : last + 1], [above]))
    resampled = rng.poisson(band_counts, size=(resamples, len(band_counts)))
    return sketch.resampled_quantiles(band_values, resampled, q)


def wilson_interval(hits: int, n: int, z: float) -> tuple[float, float]:
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion_difference(
    baseline_hits: int, baseline_n: int, current_hits: int, current_n: int, *, z: float
) -> Estimate:
    """current rate − baseline rate, with Newcombe's hybrid score interval (his method 10)."""
    p1, p2 = current_hits / current_n, baseline_hits / baseline_n
    l1, u1 = wilson_interval(current_hits, current_n, z)
    l2, u2 = wilson_interval(baseline_hits, baseline_n, z)
    d = p1 - p2
    return Estimate(d, d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2))


def mean_ratio(baseline: tuple[float, float, int], current: tuple[float, float, int], *, z: float) -> Estimate | None:
    """current mean / baseline mean − 1 from (sum, sum of squares, n) of each side. None for a zero mean."""
    terms = []
    means = []
    for total, squares, n in (baseline, current):
        if n < 2 or total <= 0:
            return None
        mean = total / n
        variance = max(0.0, (squares - n * mean * mean) / (n - 1))
        terms.append(variance / (n * mean * mean))
        means.append(mean)
    log_ratio = math.log(means[1] / means[0])
    se = math.sqrt(sum(terms))
    return Estimate(math.expm1(log_ratio), math.expm1(log_ratio - z * se), math.expm1(log_ratio + z * se))
