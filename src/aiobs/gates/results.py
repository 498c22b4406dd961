"""What `aiobs check` found: one result per SLO (and group), one per baseline comparison."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from aiobs.gates.catalogue import Unit
from aiobs.gates.expressions import Gate, Slo


class Status(StrEnum):
    OK = "ok"
    BREACHED = "breached"  # an SLO does not hold
    REGRESSED = "regressed"  # worse than the baseline by more than the gate allows, beyond noise
    IMPROVED = "improved"  # better than the baseline, beyond noise (never fails)
    NO_DATA = "no data"  # nothing to compute the metric from (see the note)
    UNMATCHED = "unmatched"  # a filter value (model=gpt-5) no request has: a typo must not pass CI forever

    @property
    def fails(self) -> bool:
        return self in (Status.BREACHED, Status.REGRESSED, Status.UNMATCHED)


Group = tuple[tuple[str, str | None], ...]


def group_label(group: Group) -> str:
    return ", ".join(f"{k}={'—' if v is None else v}" for k, v in group)


@dataclass(frozen=True)
class SloResult:
    slo: Slo
    group: Group
    value: float | None
    n: int
    status: Status
    note: str = ""


@dataclass(frozen=True)
class Comparison:
    """Current against baseline for one gate and one group.

    `change` is relative (current / baseline − 1) for latency and cost, and the difference in
    points of a rate (current − baseline) for rates; `low`/`high` bound it at the report's level.
    """

    gate: Gate
    metric: str
    unit: Unit
    dimension: str
    key: str | None
    baseline: float | None
    current: float | None
    n_baseline: int
    n_current: int
    status: Status
    change: float | None = None
    low: float | None = None
    high: float | None = None
    note: str = ""

    @property
    def group(self) -> str:
        return "overall" if self.dimension == "overall" else f"{self.dimension}={'—' if self.key is None else self.key}"


@dataclass
class CheckReport:
    inputs: list[str]
    requests: int
    slos: list[SloResult] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    baseline: str | None = None
    baseline_requests: int | None = None
    confidence: float = 0.95
    #: Comparisons that were tested (had data on both sides): the Bonferroni family size.
    tested: int = 0
    #: The level each interval and test is computed at: 1 − (1 − confidence) / tested, two-sided bounds.
    interval_level: float = 0.95
    input_problems: int = 0

    @property
    def failed(self) -> bool:
        return any(r.status.fails for r in self.slos) or any(c.status.fails for c in self.comparisons)

    @property
    def slos_without_data(self) -> int:
        """SLO results with no data: what --strict fails on (a baseline group too small to compare does not)."""
        return sum(r.status is Status.NO_DATA for r in self.slos)

    @property
    def no_data(self) -> int:
        return sum(r.status is Status.NO_DATA for r in self.slos) + sum(
            c.status is Status.NO_DATA for c in self.comparisons
        )

    def counts(self) -> dict[Status, int]:
        counts = dict.fromkeys(Status, 0)
        for status in [r.status for r in self.slos] + [c.status for c in self.comparisons]:
            counts[status] += 1
        return counts
