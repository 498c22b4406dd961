"""How well the anomaly detector catches incidents: detection rate and false alarms on a month of generated traffic.

For each traffic level (20, 80 and 500 requests an hour on average) and each seed, a month (30 days)
of requests is drawn with numpy: volume, latency and error rate follow a daily cycle (volume from
half to one and a half times the mean, p95 latency about 1.4 times higher in the afternoon), weekends
carry 60 % of a weekday's traffic, and every day has its own small drift in latency and volume. Two
models (70/30) on one route, a 2 % refusal flag, and the `error` flag (the error status, as aiobs
computes it). The requests are profiled into hourly history rows by aiobs.profiles, exactly what
`--history DIR` stores, without writing any log; the detector (aiobs.incidents.detect) then scores
the whole month, as `aiobs history DIR --days 30` does.

Each planted month gets 12 incidents on 12 different days from day 8 on (the baseline needs a week):
6 latency incidents (every request × 3 to 6, for 1 to 3 hours) and 6 error spikes (10 % to 30 % of
requests fail, for 1 or 2 hours), at random hours. A planted incident is **detected** when an
incident the detector reports overlaps it and names the planted metric (p95 latency; error rate).
A **false alarm** is a reported incident that overlaps no planted one; they are counted in the same
months without plants (drawn apart from the planted ones), and in the planted months outside the
plants. Each level is run twice: with the default rules (each hour judged on the finest of 1 h, 3 h,
6 h and 1 d buckets that has enough requests) and with hourly buckets only (`sizes=("1h",)`: the
detector before coarser buckets).

    .venv/bin/python bench/anomaly_detection.py                  # 10 months per level, about 2 minutes on 2 cores
    .venv/bin/python bench/anomaly_detection.py --months 4 --levels 20,80
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from aiobs.anomaly import LATENCY_METRIC, AnomalyRules, size_label
from aiobs.incidents import detect
from aiobs.profiles import profile_requests
from aiobs.schema import REQUEST_SCHEMA

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
DAYS = 30
HOURS_ONLY = AnomalyRules(sizes=("1h",))
LATENCY, ERRORS = "latency", "errors"
METRIC_OF = {LATENCY: LATENCY_METRIC, ERRORS: "error_rate"}


@dataclass(frozen=True)
class Plant:
    kind: str
    start: datetime
    hours: int
    strength: float

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)


def cycle(hours: np.ndarray) -> np.ndarray:
    """The daily cycle, -1 at 03:00 UTC and +1 at 15:00."""
    return np.sin(2 * math.pi * (hours % 24 - 9) / 24)


def plants_for(rng: np.random.Generator) -> list[Plant]:
    days = rng.choice(np.arange(7, DAYS), size=12, replace=False)
    kinds = [LATENCY, ERRORS] * 6
    out = []
    for day, kind in zip(days, rng.permutation(kinds), strict=True):
        start = T0 + timedelta(days=int(day), hours=int(rng.integers(0, 24)))
        if kind == LATENCY:
            out.append(Plant(LATENCY, start, int(rng.integers(1, 4)), float(rng.uniform(3, 6))))
        else:
            out.append(Plant(ERRORS, start, int(rng.integers(1, 3)), float(rng.uniform(0.10, 0.30))))
    return sorted(out, key=lambda p: p.start)


def month(level: int, rng: np.random.Generator, plants: list[Plant]) -> pl.DataFrame:
    """A month of requests at `level` an hour on average, with `plants` in it (the request table's columns)."""
    hours = np.arange(DAYS * 24)
    day = hours // 24
    weekend = np.where(day % 7 >= 5, 0.6, 1.0)
    volume = (1 + 0.5 * cycle(hours)) * weekend * rng.lognormal(0, 0.1, DAYS)[day]
    counts = rng.poisson(level * volume / volume.mean())
    hour = np.repeat(hours, counts)
    n = hour.size
    offset_s = (hour + rng.random(n)) * 3600.0
    drift = rng.normal(0, 0.05, DAYS)[hour // 24]
    latency = rng.lognormal(math.log(1200) + 0.18 * cycle(hour) + drift, 0.6)
    p_error = 0.01 * (1 + 0.3 * cycle(hour))
    for plant in plants:
        first = (plant.start - T0) / timedelta(hours=1)
        inside = (offset_s >= first * 3600) & (offset_s < (first + plant.hours) * 3600)
        if plant.kind == LATENCY:
            latency = np.where(inside, latency * plant.strength, latency)
        else:
            p_error = np.where(inside, plant.strength, p_error)
    is_error = rng.random(n) < p_error
    model = np.where(rng.random(n) < 0.7, "model-a", "model-b")
    starts = np.datetime64(T0.replace(tzinfo=None), "us") + (offset_s * 1e6).astype("timedelta64[us]")
    frame = pl.DataFrame(
        {
            "correlation_id": np.arange(n).astype(str),
            "start": pl.Series(starts).dt.replace_time_zone("UTC"),
            "latency_ms": latency,
            "cost_usd": rng.gamma(2.0, 0.001, n),
            "model": model,
            "route": np.full(n, "/chat"),
            "is_error": is_error,
            "retries": np.zeros(n, dtype=np.int64),
            "flag_error": is_error,
            "flag_refusal": rng.random(n) < 0.02,
        }
    )
    missing = [pl.lit(None, dtype).alias(name) for name, dtype in REQUEST_SCHEMA.items() if name not in frame.columns]
    return frame.with_columns(missing)


@dataclass
class Tally:
    planted: Counter[str] = field(default_factory=Counter)
    detected: Counter[str] = field(default_factory=Counter)
    sizes: Counter[tuple[str, str]] = field(default_factory=Counter)
    false_in_clean: int = 0
    false_in_planted: int = 0
    months: int = 0
    seconds: float = 0.0


def score(incidents: pl.DataFrame, plants: list[Plant], tally: Tally) -> None:
    """Count the plants found (and the bucket size that found them) and the incidents that match no plant."""
    rows = incidents.to_dicts()
    for plant in plants:
        tally.planted[plant.kind] += 1
        metric = METRIC_OF[plant.kind]
        found = [
            move["every"]
            for r in rows
            if r["start"] < plant.end and r["end"] > plant.start
            for move in r["moves"]
            if move["metric"] == metric
        ]
        if found:
            tally.detected[plant.kind] += 1
            tally.sizes[(plant.kind, found[0])] += 1
    overlapping = [any(r["start"] < p.end and r["end"] > p.start for p in plants) for r in rows]
    if plants:
        tally.false_in_planted += overlapping.count(False)
    else:
        tally.false_in_clean += len(rows)


def run(level: int, months: int, rules: AnomalyRules) -> Tally:
    tally = Tally()
    for seed in range(months):
        plants = plants_for(np.random.default_rng(1000 + seed))
        for planted, stream in ((plants, 0), ([], 1)):
            requests = month(level, np.random.default_rng([level, seed, stream]), planted)
            began = time.perf_counter()
            profiles = profile_requests(requests.lazy(), every="1h")
            score(detect(profiles, rules).incidents, planted, tally)
            tally.seconds += time.perf_counter() - began
        tally.months += 1
    return tally


def _rate(found: int, planted: int) -> str:
    return f"{found}/{planted} ({found / planted:.0%})" if planted else "—"


def _sizes(tally: Tally, kind: str) -> str:
    found = sorted(((e, n) for (k, e), n in tally.sizes.items() if k == kind), key=lambda x: -x[1])
    return ", ".join(f"{size_label(e)} ×{n}" for e, n in found) or "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--months", type=int, default=10, help="months per traffic level (each also run clean)")
    parser.add_argument("--levels", default="20,80,500", help="mean requests per hour, comma-separated")
    args = parser.parse_args()
    header = (
        "| requests/hour | buckets | latency ×3–6 found | on | error spikes found | on "
        "| false alarms/month (clean) | (planted months) | s/month |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for level in (int(x) for x in args.levels.split(",")):
        for name, rules in (("1 h only", HOURS_ONLY), ("automatic", AnomalyRules())):
            t = run(level, args.months, rules)
            cells = [
                str(level),
                name,
                _rate(t.detected[LATENCY], t.planted[LATENCY]),
                _sizes(t, LATENCY),
                _rate(t.detected[ERRORS], t.planted[ERRORS]),
                _sizes(t, ERRORS),
                f"{t.false_in_clean / t.months:.2f}",
                f"{t.false_in_planted / t.months:.2f}",
                f"{t.seconds / (2 * t.months):.1f}",
            ]
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
