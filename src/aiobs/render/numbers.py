"""Numbers and times as the text renderers write them: counts, ms, USD, rates, a thin percentile's `*`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard


def _present(value: float | None) -> TypeGuard[float]:
    return value is not None and value == value  # NaN (a mean over nothing) is missing too


def ms(value: float | None) -> str:
    if not _present(value):
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def pct(value: float | None) -> str:
    return f"{value * 100:.2f}%" if _present(value) else "—"


def usd(value: float | None) -> str:
    if not _present(value):
        return "—"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}" if abs(value) >= 100 else f"{sign}${abs(value):,.4f}"


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def latency_cells(latency: Mapping[str, Any], names: tuple[str, ...]) -> list[str]:
    """Percentiles computed from too few requests get a trailing `*` (a missing one, as in an empty bucket, none)."""
    return [ms(latency[name]) + ("*" if is_thin_value(latency, name) else "") for name in names]


def is_thin_value(latency: Mapping[str, Any], name: str) -> bool:
    return name in latency["thin"] and _present(latency[name])


def any_thin(rows: Sequence[Mapping[str, Any]]) -> bool:
    """Some row shows a percentile marked `*`, so the THIN_NOTE is needed."""
    return any(is_thin_value(r["latency_ms"], name) for r in rows for name in r["latency_ms"]["thin"])


THIN_NOTE = "* fewer than 10 requests lie above this percentile: treat it as a rough figure."


def errors_by_rule(rows: list[dict[str, Any]], titles: dict[str, str]) -> str:
    """`errors by rule: 40 an HTTP error status (http-status), 10 a failure status word (status)`."""
    parts = [f"{count(r['requests'])} {titles.get(r['error_rule'], 'unknown')} ({r['error_rule']})" for r in rows]
    return "errors by rule: " + ", ".join(parts)


def metric_value(metric: str, value: float | None) -> str:
    """A value of an anomaly metric (aiobs.anomaly): p95(latency_ms) in ms, cost_per_1k in dollars, rates in %."""
    if value is None:
        return "—"
    if metric.startswith("p") and "latency" in metric:
        return f"{ms(value)} ms"
    if metric == "cost_per_1k":
        return usd(value)
    return pct(value)


def requests_read(n_requests: int, read: int | None, selected_by: str = "in the --since/--until window") -> str:
    """`2,600 requests`, or `36 of 2,600 requests (in the --since/--until window)` when a window or --where
    left some out."""
    if read is None or read == n_requests:
        return f"{count(n_requests)} requests"
    return f"{count(n_requests)} of {count(read)} requests ({selected_by})"
