"""Every metric an SLO or a regression gate can name, with its unit and which way is worse.

docs/ci.md lists the same names (a test keeps the two in step). How `error_rate`, `cost` and `cost_per_1k`
are computed is defined once, in aiobs.metrics, for summaries, gates and the history store alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from aiobs.schema import CHILD_STAGES


class Unit(StrEnum):
    MS = "ms"  # a duration: 3000, 3000ms or 3s
    FRACTION = "fraction"  # a rate: 2% or 0.02
    USD = "usd"  # money: 2.50 or $2.50
    COUNT = "count"  # requests, tokens
    PER_SECOND = "per second"  # throughput


@dataclass(frozen=True)
class MetricSpec:
    name: str
    unit: Unit
    higher_is_worse: bool
    doc: str
    #: What the metric takes in parentheses: a request field, a flag name, or nothing.
    argument: str | None = None


PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")

METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec("requests", Unit.COUNT, False, "Number of requests."),
        MetricSpec("errors", Unit.COUNT, True, "Number of failed requests."),
        MetricSpec("error_rate", Unit.FRACTION, True, "Failed requests / requests."),
        MetricSpec("retry_rate", Unit.FRACTION, True, "Requests with at least one retry / requests."),
        MetricSpec("cost", Unit.USD, True, "Total cost priced by aiobs, US dollars."),
        MetricSpec("cost_per_1k", Unit.USD, True, "Cost per 1,000 requests (unpriced requests count as $0)."),
        MetricSpec("tokens_per_s", Unit.PER_SECOND, False, "Output tokens per second of LLM time."),
        MetricSpec(
            "acceptance_rate", Unit.FRACTION, False, "Requests with feedback score >= 0.5 / requests with feedback."
        ),
        MetricSpec("rate", Unit.FRACTION, True, "Share of requests with quality flag NAME (column flag_NAME).", "flag"),
        MetricSpec("mean", Unit.MS, True, "Mean of a field.", "field"),
        MetricSpec("max", Unit.MS, True, "Largest value of a field.", "field"),
    )
}
PERCENTILE_DOC = "Percentile NN of a field (p50, p95, p99, p99.9, ...), linear interpolation."

#: Fields that percentiles, mean and max read, with their unit.
FIELDS: dict[str, Unit] = {
    "latency_ms": Unit.MS,
    "ttft_ms": Unit.MS,
    **{f"{stage}_ms": Unit.MS for stage in CHILD_STAGES},
    "input_tokens": Unit.COUNT,
    "output_tokens": Unit.COUNT,
    "cached_tokens": Unit.COUNT,
    "reasoning_tokens": Unit.COUNT,
    "cost_usd": Unit.USD,
}
DEFAULT_FIELD = "latency_ms"

#: Filters (`model=gpt-4o`) and `by` keys: request columns, and `stage` for a stage's own time.
GROUP_KEYS: tuple[str, ...] = ("model", "route", "stage", "provider", "user")
STAGE_VALUES: tuple[str, ...] = CHILD_STAGES

#: What regression gates (`--max-regression`) can compare, and the groupings they compare over.
GATE_METRICS = ("pNN(latency_ms)", "error_rate", "cost_per_1k", "rate(NAME)", "acceptance_rate")
GATE_DIMENSIONS: tuple[str, ...] = ("model", "route", "stage")
#: What a gate's `by` may name: one of those, or `overall` for the overall figures alone.
GATE_GROUPINGS: tuple[str, ...] = ("overall", *GATE_DIMENSIONS)


def percentile_of(name: str) -> float | None:
    """`p95` -> 0.95, `p99.9` -> 0.999; None for anything that is not a percentile in (0, 100)."""
    match = PERCENTILE.match(name)
    if not match:
        return None
    value = float(match.group(1))
    return value / 100 if 0 < value < 100 else None


def known_names() -> list[str]:
    return [*METRICS, "p50", "p90", "p95", "p99", "p99.9"]
