"""The summary's Overall table as (metric, value) rows, shared by the terminal and Markdown renderers."""

from __future__ import annotations

from aiobs.render import numbers as f
from aiobs.views.record_types import MetricsRecord


def overall_rows(o: MetricsRecord) -> list[tuple[str, str]]:
    """Every figure of the Overall table, formatted; percentiles from too few requests marked `*`."""
    lat, tokens = o["latency_ms"], o["tokens"]
    rows = [
        ("requests", f.count(o["requests"])),
        ("errors", f"{f.count(o['errors'])} ({f.pct(o['error_rate'])})"),
        ("retries", f.count(o["retries"])),
        ("latency ms  p50 / p90 / p95", " / ".join(f.latency_cells(lat, ("p50", "p90", "p95")))),
        ("latency ms  p99 / p99.9 / max", " / ".join([*f.latency_cells(lat, ("p99", "p99.9")), f.ms(lat["max"])])),
        ("latency ms  mean", f.ms(lat["mean"])),
        ("TTFT ms  p50 / p95 / p99", " / ".join(f.ms(o["ttft_ms"][k]) for k in ("p50", "p95", "p99"))),
        ("output tokens/s", f.rate(o["output_tokens_per_s"])),
        ("tokens in / out", f"{f.count(tokens['input'])} / {f.count(tokens['output'])}"),
        ("tokens cached / reasoning", f"{f.count(tokens['cached'])} / {f.count(tokens['reasoning'])}"),
        ("cost (priced by aiobs)", f.usd(o["cost_usd"])),
        ("cost per 1,000 requests", f.usd(o["cost_per_1k_requests"])),
    ]
    if o["cost_usd"] is not None and o["priced_requests"] < o["requests"]:
        # Unpriced requests add $0 to both figures above: they are lower bounds, and this row says by how much.
        rows.append(("  requests priced / all", f"{f.count(o['priced_requests'])} / {f.count(o['requests'])}"))
    if o["logged_cost_usd"] is not None:
        rows.append(("cost logged by the app", f.usd(o["logged_cost_usd"])))
        if o["logged_cost_requests"] < o["requests"]:  # a row of its own: every value of the table is a number
            rows.append(("  on requests", f.count(o["logged_cost_requests"])))
    return rows
