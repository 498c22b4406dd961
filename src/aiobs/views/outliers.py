"""One outlier as a typed row, built once from `select_outliers` for `aiobs outliers` and `aiobs report`.

Both used to read the same frame row by row, each working out the stage times, the slowest stage,
the raised flags and the tokens in its own words. An `OutlierRow` holds them as values; the outliers
document (`aiobs.outliers/1`) and the report's outlier list are written from it. The frame's strings
are whatever privacy made of them before (`apply_privacy`, or the report's `Cleaner` afterwards).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from aiobs.schema import CHILD_STAGES

TOKEN_KINDS = ("input", "output", "cached", "reasoning")


@dataclass(frozen=True)
class OutlierRow:
    """A request above the percentile: what it was (model, route, user), how bad (`value` against
    `threshold`, rank within its group), and where its time went (`stages_ms`, timed stages only)."""

    rank: int
    correlation_id: str
    value: float | None
    threshold: float | None
    start: datetime | None
    latency_ms: float | None
    ttft_ms: float | None
    stages_ms: dict[str, float]
    slowest_stage: str | None
    tokens: dict[str, int | None]
    cost_usd: float | None
    model: str | None
    provider: str | None
    route: str | None
    user: str | None
    is_error: bool
    retries: int
    n_events: int | None
    flags: list[str]
    input_text: str | None
    output_text: str | None

    @property
    def slowest_share(self) -> float | None:
        """The slowest stage's share of the request's latency (None without a stage or a latency)."""
        if self.slowest_stage is None or not self.latency_ms:
            return None
        return self.stages_ms[self.slowest_stage] / self.latency_ms


def outlier_rows(frame: pl.DataFrame) -> list[OutlierRow]:
    """The rows of `select_outliers(...)`, in its order (worst first, within each group)."""
    return [outlier_row(r) for r in frame.iter_rows(named=True)]


def outlier_row(r: Mapping[str, Any]) -> OutlierRow:
    stages = {s: r[f"{s}_ms"] for s in CHILD_STAGES if r.get(f"{s}_ms") is not None}
    return OutlierRow(
        rank=r["rank"],
        correlation_id=r["correlation_id"],
        value=r.get("value"),
        threshold=r.get("threshold"),
        start=r.get("start"),
        latency_ms=r.get("latency_ms"),
        ttft_ms=r.get("ttft_ms"),
        stages_ms=stages,
        slowest_stage=r.get("slowest_stage"),
        tokens={k: r.get(f"{k}_tokens") for k in TOKEN_KINDS},
        cost_usd=r.get("cost_usd"),
        model=r.get("model"),
        provider=r.get("provider"),
        route=r.get("route"),
        user=r.get("user"),
        is_error=bool(r.get("is_error")),
        retries=r.get("retries") or 0,
        n_events=r.get("n_events"),
        flags=list(r.get("flags") or []),
        input_text=r.get("input_text"),
        output_text=r.get("output_text"),
    )
