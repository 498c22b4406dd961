"""The report's headline: the figures that matter, named as a person would, each rate with what it is over."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from aiobs.report.flag_rates import Rate, ranked
from aiobs.report.labels import ERROR_FLAG
from aiobs.views.record_types import MetricsRecord

#: Quality-flag cards in the headline, at most.
HEADLINE_FLAGS = 4


@dataclass(frozen=True)
class Figure:
    """One headline number: label, value (formatted by the renderer), a short detail (for a rate: what it is
    over, "2 of 31 requests") and, when the figure rests on too few requests, why it is rough."""

    key: str
    label: str
    value: Any
    kind: str  # count, pct, ms, usd
    detail: str = ""
    rough: str = ""


def headline_figures(overall: MetricsRecord, flags: pl.DataFrame | None, problems: int) -> list[Figure]:
    """The figures that matter, each named as a person would and each rate with what it is over.

    The error rate has one card (the `error` flag is the same number); a flag gets one only when it
    flagged some request, the rough ones (few requests checked) after the others, at most HEADLINE_FLAGS.
    """
    lat = overall["latency_ms"]
    thin = set(lat["thin"])
    errors = Rate(overall["errors"], overall["requests"])
    priced = overall["priced_requests"]
    figures = [
        Figure("requests", "Requests", overall["requests"], "count", f"{overall['retries']:,} retries"),
        Figure(
            "error_rate", "Error rate", overall["error_rate"], "pct", errors.of("requests failed"), errors.rough_note()
        ),
        *(
            Figure(name, f"{name} latency", lat[name], "ms", "", "rough: few requests above it" if name in thin else "")
            for name in ("p50", "p95", "p99")
        ),
        Figure("cost", "Cost", overall["cost_usd"], "usd", f"{priced:,} of {overall['requests']:,} requests priced"),
        Figure("cost_per_1k", "Cost per 1,000 requests", overall["cost_per_1k_requests"], "usd", ""),
    ]
    if flags is not None:
        shown = ranked(flags).filter((pl.col("flagged") > 0) & (pl.col("flag") != ERROR_FLAG))
        for row in shown.head(HEADLINE_FLAGS).iter_rows(named=True):
            rate = Rate(row["flagged"], row["checked"])
            figures.append(
                Figure(
                    f"flag_{row['flag']}",
                    row["title"],
                    rate.value,
                    "pct",
                    rate.of("checked requests"),
                    rate.rough_note(),
                )
            )
    figures.append(Figure("problems", "Input problems", problems, "count", "lines or values aiobs could not use"))
    return figures
