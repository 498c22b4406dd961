"""Compare a run against a baseline: logs read again, or a summary saved with `--format json`.

Each regression gate (`p95=10%`, `error_rate=1pp`, ...) is compared overall and per model, route
and (latency only) stage, unless it names one group (`model=gpt-4o`) or one grouping (`by model`).
A comparison is **regressed** when the whole confidence interval of the change lies on the worse side
of zero (the change is beyond noise) and the estimated change is larger than the gate allows.

The intervals are Bonferroni-corrected over every comparison tested in the run: with `tested`
comparisons and confidence c, each interval is two-sided at 1 − (1 − c) / tested. So when nothing
changed, the chance that the run reports any regression is at most (1 − c) / 2 (2.5 % at the
default 95 %), however many models and routes there are. tests/gates/test_baseline.py measures it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any, TypeAlias

import numpy as np
import orjson
import polars as pl

from aiobs import sketch
from aiobs.errors import InputError
from aiobs.gates.catalogue import GATE_DIMENSIONS, Unit
from aiobs.gates.expressions import Gate, parse_gate
from aiobs.gates.results import Comparison, Status
from aiobs.gates.stats import RESAMPLES, Estimate, mean_ratio, percentile_ratio, proportion_difference
from aiobs.metrics import PERCENTILES, STAGE_KEY, is_thin
from aiobs.profiles import OVERALL, PROFILE_SCHEMA, empty_profiles, from_records

#: Used when a baseline is given and no gate is (on the command line or in [slo]).
DEFAULT_GATES: tuple[str, ...] = ("p95=10%", "error_rate=1pp", "cost_per_1k=10%", "rate(*)=1pp", "acceptance_rate=5pp")
#: Fewer requests than this on either side: no verdict (a rate or percentile from 12 requests says little).
MIN_REQUESTS = 30
SUMMARY_SCHEMA = re.compile(rb'^\s*\{\s*"schema"\s*:\s*"aiobs\.summary/(\d+)"')
READABLE_VERSIONS = (1,)


@dataclass(frozen=True)
class Baseline:
    label: str
    profiles: pl.DataFrame
    requests: int


# -- reading a saved summary ------------------------------------------------------------------------------


def is_summary_document(path: Path) -> bool:
    """A JSON document written by `aiobs summarize --format json` (not a JSON-lines log)."""
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        head = handle.read(512)
    return SUMMARY_SCHEMA.match(head) is not None


def load_summary_baseline(path: Path) -> Baseline:
    """Profiles from a saved summary. Documents without `profiles` (older aiobs) still give counts and rates."""
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        msg = f"cannot read baseline {path}: {exc}"
        raise InputError(msg) from None
    match = SUMMARY_SCHEMA.match(path.read_bytes()[:512])
    version = int(match.group(1)) if match else 0
    if version not in READABLE_VERSIONS:
        msg = f"baseline {path} is aiobs.summary/{version}; this aiobs reads aiobs.summary/1: upgrade aiobs"
        raise InputError(msg)
    try:
        profiles = from_records(doc["profiles"]) if "profiles" in doc else _profiles_from_groups(doc)
        requests = int(doc["overall"]["requests"])
    except (ValueError, KeyError, TypeError) as exc:
        msg = f"baseline {path} is not a valid aiobs summary: {exc}"
        raise InputError(msg) from None
    return Baseline(f"{path} (saved summary)", profiles, requests)


def _profiles_from_groups(doc: dict[str, Any]) -> pl.DataFrame:
    """Counts, exact percentiles and cost totals from `overall` and the single-key groups (no sketches)."""
    rows = [_group_row(OVERALL, None, doc["overall"])]
    for dimension in GATE_DIMENSIONS:
        for record in doc.get("groups", {}).get(dimension, []):
            rows.append(_group_row(dimension, record["key"][dimension], record))
    if not rows:
        return empty_profiles()
    frame = pl.DataFrame(rows, schema_overrides={k: v for k, v in PROFILE_SCHEMA.items() if k in rows[0]})
    missing = [pl.lit(None, dtype).alias(name) for name, dtype in PROFILE_SCHEMA.items() if name not in frame.columns]
    return (
        frame.with_columns(missing)
        .select(pl.col(n).cast(t) for n, t in PROFILE_SCHEMA.items())
        .with_columns(
            latency_sketch=pl.lit([], dtype=sketch.SKETCH),
            flags=pl.lit([], dtype=PROFILE_SCHEMA["flags"]),
            feedback_n=pl.lit(0, pl.Int64),
            feedback_accepted=pl.lit(0, pl.Int64),
        )
    )


def _group_row(dimension: str, key: str | None, record: dict[str, Any]) -> dict[str, Any]:
    latency = record["latency_ms"]
    return {
        "dimension": dimension,
        "key": key,
        "requests": record["requests"],
        "errors": record["errors"],
        "retries": record["retries"],
        "latency_n": latency["n"],
        **{f"latency_{name}": latency.get(name) for name, _ in PERCENTILES},
        "latency_max": latency.get("max"),
        "cost_usd": record.get("cost_usd"),
        "priced": record.get("priced_requests"),
    }


# -- comparing ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pending:
    """A comparison with data on both sides, waiting for the family size to fix its interval width."""

    gate: Gate
    metric: str
    unit: Unit
    higher_is_worse: bool
    dimension: str
    key: str | None
    base: dict[str, Any]
    cur: dict[str, Any]
    flag: str | None


#: One run's profile rows by (dimension, key).
_Index: TypeAlias = dict[tuple[str, str | None], dict[str, Any]]


def _index(profiles: pl.DataFrame) -> _Index:
    return {(row["dimension"], row["key"]): row for row in profiles.iter_rows(named=True)}


def _targets(gate: Gate, base: _Index, cur: _Index) -> list[tuple[str, str | None]]:
    filters = gate.metric.filters
    if filters:
        return [filters[0]] if len(filters) == 1 else []
    dimensions = list(gate.by) or [
        OVERALL,
        *(d for d in GATE_DIMENSIONS if d != STAGE_KEY or gate.metric.is_percentile),
    ]
    targets: list[tuple[str, str | None]] = []
    for dimension in dimensions:
        if dimension == OVERALL:
            targets.append((OVERALL, None))
            continue
        keys = {k for d, k in [*base, *cur] if d == dimension}
        targets += [(dimension, k) for k in sorted(keys, key=lambda k: (k is None, k or ""))]
    return targets


def _flags(row: dict[str, Any] | None) -> dict[str, tuple[int, int]]:
    return {f["name"]: (f["hits"], f["n"]) for f in (row or {}).get("flags") or []}


def _counts(item: _Pending, row: dict[str, Any]) -> tuple[int, int]:
    """(hits, n) of the rate an item compares."""
    name = item.gate.metric.name
    if name == "error_rate":
        return row["errors"] or 0, row["requests"] or 0
    if name == "acceptance_rate":
        return row["feedback_accepted"] or 0, row["feedback_n"] or 0
    return _flags(row).get(item.flag or "", (0, 0))


def _short_note(item: _Pending) -> str | None:
    """Why an item cannot be tested (too little data, or a baseline without the needed detail)."""
    metric = item.gate.metric
    if metric.is_percentile:
        q = metric.quantile or 0.5
        for side, row in (("baseline", item.base), ("current run", item.cur)):
            n = row["latency_n"] or 0
            if n < MIN_REQUESTS or is_thin(n, q):
                return f"too few latencies in the {side} ({n:,}) for {metric.name}"
            if not row["latency_sketch"]:
                return f"the {side} has no latency sketch (saved by an older aiobs: save it again)"
        return None
    if metric.name == "cost_per_1k":
        for side, row in (("baseline", item.base), ("current run", item.cur)):
            if (row["priced"] or 0) < MIN_REQUESTS:
                return f"too few priced requests in the {side} ({row['priced'] or 0:,})"
            if row["cost_sq"] is None:
                return f"the {side} has no cost spread (saved by an older aiobs: save it again)"
        return None
    for side, row in (("baseline", item.base), ("current run", item.cur)):
        n = _counts(item, row)[1]
        if n < MIN_REQUESTS:
            what = {"error_rate": "requests", "acceptance_rate": "requests with feedback"}.get(metric.name, "values")
            return f"too few {what} in the {side} ({n:,})"
    return None


def _expand(gate: Gate, base: _Index, cur: _Index) -> tuple[list[_Pending], list[Comparison]]:
    metric = gate.metric
    pending: list[_Pending] = []
    skipped: list[Comparison] = []
    flags: list[str | None] = [None]
    if metric.name == "rate":
        names = set(_flags(base.get((OVERALL, None)))) | set(_flags(cur.get((OVERALL, None))))
        flags = [*sorted(names)] if metric.argument == "*" else [metric.argument]
        if not flags:
            skipped.append(_no_data(gate, "rate(*)", metric.unit, OVERALL, None, "no quality flags in either run"))
    targets = _targets(gate, base, cur)
    if not metric.filters and not gate.by and _absent_everywhere(metric.name, flags, base, cur):
        # Nothing to compare in either run (no feedback logged, no cost priced): one row, not one per group.
        notes = {"acceptance_rate": "no feedback in either run", "cost_per_1k": "no priced requests in either run"}
        label = f"rate({flags[0]})" if flags and flags[0] else metric.name
        skipped.append(
            _no_data(gate, label, metric.unit, OVERALL, None, notes.get(metric.name, "no data in either run"))
        )
        return pending, skipped
    if not targets:
        skipped.append(
            _no_data(gate, metric.label, metric.unit, OVERALL, None, "compare one model, route or stage at a time")
        )
    for flag in flags:
        # The group goes in its own column, so the metric's label leaves the filter out.
        label = f"{metric.name}(latency_ms)" if metric.is_percentile else f"rate({flag})" if flag else metric.name
        for dimension, key in targets:
            b, c = base.get((dimension, key)), cur.get((dimension, key))
            if b is None or c is None:
                where = "baseline" if b is None else "current run"
                skipped.append(_no_data(gate, label, metric.unit, dimension, key, f"not in the {where}", b, c))
                continue
            if flag is not None and flag not in _flags(b) | _flags(c):
                note = f"no '{flag}' flag in either run"
                skipped.append(_no_data(gate, label, metric.unit, dimension, key, note, b, c))
                continue
            pending.append(_Pending(gate, label, metric.unit, metric.higher_is_worse, dimension, key, b, c, flag))
    return pending, skipped


def _absent_everywhere(name: str, flags: list[str | None], base: _Index, cur: _Index) -> bool:
    rows = [r for r in (base.get((OVERALL, None)), cur.get((OVERALL, None))) if r is not None]
    if name == "acceptance_rate":
        return all(not r["feedback_n"] for r in rows)
    if name == "cost_per_1k":
        return all(not r["priced"] for r in rows)
    if name == "rate" and len(flags) == 1 and flags[0] is not None:
        return all(flags[0] not in _flags(r) for r in rows)
    return False


def _no_data(
    gate: Gate,
    metric: str,
    unit: Unit,
    dimension: str,
    key: str | None,
    note: str,
    base: dict[str, Any] | None = None,
    cur: dict[str, Any] | None = None,
) -> Comparison:
    return Comparison(
        gate,
        metric,
        unit,
        dimension,
        key,
        None,
        None,
        (base or {}).get("requests") or 0,
        (cur or {}).get("requests") or 0,
        Status.NO_DATA,
        note=note,
    )


_EXACT = {q: f"latency_{name}" for name, q in PERCENTILES}


def _estimate(
    item: _Pending, z: float, rng: np.random.Generator, resamples: int
) -> tuple[float, float, Estimate | None]:
    """(baseline value, current value, estimate of the change)."""
    metric = item.gate.metric
    if metric.is_percentile:
        q = metric.quantile or 0.5
        column = _EXACT.get(q)
        point = None
        if column and item.base[column] is not None and item.cur[column] is not None:
            point = (item.base[column], item.cur[column])
        base_sketch, cur_sketch = (
            sketch.as_arrays(item.base["latency_sketch"]),
            sketch.as_arrays(item.cur["latency_sketch"]),
        )
        if point is None:
            point = (sketch.array_quantile(*base_sketch, q) or 0.0, sketch.array_quantile(*cur_sketch, q) or 0.0)
        estimate = percentile_ratio(base_sketch, cur_sketch, q, z=z, rng=rng, resamples=resamples, point=point)
        return point[0], point[1], estimate
    if metric.name == "cost_per_1k":
        sides = [(row["cost_usd"] or 0.0, row["cost_sq"] or 0.0, row["requests"]) for row in (item.base, item.cur)]
        estimate = mean_ratio(sides[0], sides[1], z=z)
        return sides[0][0] / sides[0][2] * 1000, sides[1][0] / sides[1][2] * 1000, estimate
    (bh, bn), (ch, cn) = _counts(item, item.base), _counts(item, item.cur)
    return bh / bn, ch / cn, proportion_difference(bh, bn, ch, cn, z=z)


def _verdict(item: _Pending, estimate: Estimate) -> Status:
    sign = 1.0 if item.higher_is_worse else -1.0
    worse_low, worse_high = sorted((sign * estimate.low, sign * estimate.high))
    if worse_low > 0 and sign * estimate.value > item.gate.limit:
        return Status.REGRESSED
    if worse_high < 0:
        return Status.IMPROVED
    return Status.OK


def compare(
    current: pl.DataFrame,
    baseline: pl.DataFrame,
    gates: Sequence[Gate],
    *,
    confidence: float = 0.95,
    seed: int = 0,
    resamples: int = RESAMPLES,
) -> tuple[list[Comparison], int, float]:
    """(comparisons, how many were tested, the two-sided level of each interval)."""
    base, cur = _index(baseline), _index(current)
    pending: list[_Pending] = []
    skipped: list[Comparison] = []
    for gate in gates:
        items, no_data = _expand(gate, base, cur)
        skipped += no_data
        for item in items:
            note = _short_note(item)
            if note is None:
                pending.append(item)
            else:
                skipped.append(
                    _no_data(item.gate, item.metric, item.unit, item.dimension, item.key, note, item.base, item.cur)
                )
    tested = len(pending)
    level = 1 - (1 - confidence) / max(tested, 1)
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    rng = np.random.default_rng(seed)
    results: list[Comparison] = []
    for item in pending:
        base_value, cur_value, estimate = _estimate(item, z, rng, resamples)
        n_base, n_cur = item.base["requests"], item.cur["requests"]
        if estimate is None:
            note = "a zero baseline: no relative change"
            results.append(
                _no_data(item.gate, item.metric, item.unit, item.dimension, item.key, note, item.base, item.cur)
            )
            continue
        results.append(
            Comparison(
                item.gate,
                item.metric,
                item.unit,
                item.dimension,
                item.key,
                base_value,
                cur_value,
                n_base,
                n_cur,
                _verdict(item, estimate),
                estimate.value,
                estimate.low,
                estimate.high,
            )
        )
    return results + skipped, tested, level


def default_gates() -> list[Gate]:
    return [parse_gate(text) for text in DEFAULT_GATES]
