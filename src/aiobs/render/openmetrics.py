"""`--format prometheus|openmetrics` and `--push`: the summary as metrics a Prometheus scrapes or a
Pushgateway keeps.

Written by prometheus-client (label values escaped by it, HELP and TYPE lines, both text formats):
`prometheus` is the classic text format that node exporter's textfile collector and the Pushgateway
read; `openmetrics` is OpenMetrics 1.0 (the same samples, ending in `# EOF`).

Every series carries `scope="overall"`, or `scope="model_route"` with `model` and `route` (the busiest
pairs, the rest as `other`: aiobs.views.exposition). Units are Prometheus' base units: seconds and
US dollars. A value the logs do not give (no latency, no price) is left out, never written as 0.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
from collections.abc import Iterator
from typing import Any

import polars as pl
from prometheus_client import CollectorRegistry, push_to_gateway
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import basic_auth_handler, default_handler
from prometheus_client.exposition import generate_latest as prometheus_text
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_text

from aiobs.errors import UsageError
from aiobs.issues import INFORMATIONAL
from aiobs.metrics import PERCENTILES, TOKEN_KINDS, TTFT_PERCENTILES
from aiobs.summary import Summary
from aiobs.views.exposition import Exposition, exposition

Labels = dict[str, str]


def render_prometheus(summary: Summary, *, top: int | None = None) -> str:
    return prometheus_text(registry(summary, top=top)).decode()


def render_openmetrics(summary: Summary, *, top: int | None = None) -> str:
    return openmetrics_text(registry(summary, top=top)).decode()


def registry(summary: Summary, *, top: int | None = None) -> CollectorRegistry:
    """The summary's metrics in a registry of their own (written, or sent by `--push`)."""
    view = exposition(summary.requests, summary.overall, summary.flags, **({"top": top} if top else {}))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(summary, view))
    return registry


class _Collector:
    def __init__(self, summary: Summary, view: Exposition) -> None:
        self.summary = summary
        self.view = view

    def collect(self) -> Iterator[Metric]:
        rows = [({"scope": "overall"}, self.view.overall.row(0, named=True))]
        rows += [
            ({"scope": "model_route", "model": str(r["model"]), "route": str(r["route"])}, r)
            for r in self.view.groups.iter_rows(named=True)
        ]
        yield from _request_metrics(rows, self.view.flags)
        yield from _run_metrics(self.summary, self.view)


def _gauge(name: str, doc: str, rows: list[tuple[Labels, dict[str, Any]]], column: str, scale: float = 1.0) -> Metric:
    family = GaugeMetricFamily(name, doc)
    for labels, row in rows:
        if row.get(column) is not None:
            family.add_sample(name, labels, row[column] * scale)
    return family


def _summary(name: str, doc: str, rows: list[tuple[Labels, dict[str, Any]]], prefix: str, quantiles: Any) -> Metric:
    """Exact percentiles as a summary's quantiles, in seconds, with their count (and sum, when known)."""
    family = Metric(name, doc, "summary")
    for labels, row in rows:
        count = row.get(f"{prefix}_n") or 0
        for label, q in quantiles:
            value = row.get(f"{prefix}_{label}")
            if value is not None:
                family.add_sample(name, {**labels, "quantile": str(q)}, value / 1000)
        family.add_sample(f"{name}_count", labels, count)
        mean = row.get(f"{prefix}_mean")
        if mean is not None:
            family.add_sample(f"{name}_sum", labels, mean * count / 1000)
    return family


def _request_metrics(rows: list[tuple[Labels, dict[str, Any]]], flags: list[str]) -> Iterator[Metric]:
    yield _gauge("aiobs_requests", "Requests in the logs read, each rebuilt from its events.", rows, "requests")
    yield _gauge("aiobs_errors", "Requests that failed.", rows, "errors")
    yield _gauge("aiobs_error_ratio", "Failed requests over all requests.", rows, "error_rate")
    yield _gauge("aiobs_retries", "Retries logged.", rows, "retries")
    yield _summary("aiobs_latency_seconds", "End-to-end request latency.", rows, "latency", PERCENTILES)
    yield _summary("aiobs_ttft_seconds", "Time to the first token of the answer.", rows, "ttft", TTFT_PERCENTILES)
    tokens = GaugeMetricFamily("aiobs_tokens", "Tokens used, by kind (input, output, cached, reasoning).")
    for labels, row in rows:
        for kind in TOKEN_KINDS:
            if row.get(kind) is not None:
                tokens.add_sample("aiobs_tokens", {**labels, "kind": kind.removesuffix("_tokens")}, row[kind])
    yield tokens
    yield _gauge("aiobs_cost_usd", "Cost of the priced requests, in US dollars.", rows, "cost_usd")
    yield _gauge("aiobs_priced_requests", "Requests whose cost is known.", rows, "priced_requests")
    flagged = GaugeMetricFamily("aiobs_flagged_requests", "Requests a quality flag was raised on.")
    ratio = GaugeMetricFamily("aiobs_flag_ratio", "Requests flagged over the requests the flag applies to.")
    for labels, row in rows:
        for flag in flags:
            hits, applicable = row.get(f"flag_{flag}_flagged"), row.get(f"flag_{flag}_applicable")
            if hits is None or not applicable:
                continue
            flagged.add_sample("aiobs_flagged_requests", {**labels, "flag": flag}, hits)
            ratio.add_sample("aiobs_flag_ratio", {**labels, "flag": flag}, hits / applicable)
    yield flagged
    yield ratio


def _run_metrics(summary: Summary, view: Exposition) -> Iterator[Metric]:
    problems = GaugeMetricFamily("aiobs_input_problems", "Input problems found (what --strict fails on), by kind.")
    notes = GaugeMetricFamily("aiobs_input_notes", "Notes on how requests were read (not problems), by kind.")
    for code, count in sorted(summary.issues.counts.items()):
        family, name = (notes, "aiobs_input_notes") if code in INFORMATIONAL else (problems, "aiobs_input_problems")
        family.add_sample(name, {"kind": code}, count)
    yield problems
    yield notes
    spend = GaugeMetricFamily("aiobs_model_cost_usd", "Cost of every priced call, on the model that made it.")
    calls = GaugeMetricFamily("aiobs_model_calls", "Calls to each model (embeddings and rerankers included).")
    for row in summary.spend.iter_rows(named=True):
        calls.add_sample("aiobs_model_calls", {"model": str(row["model"])}, row["calls"])
        if row["cost_usd"] is not None:
            spend.add_sample("aiobs_model_cost_usd", {"model": str(row["model"])}, row["cost_usd"])
    yield spend
    yield calls
    folded = GaugeMetricFamily("aiobs_folded_groups", "(model, route) pairs counted under model and route `other`.")
    folded.add_sample("aiobs_folded_groups", {}, view.folded)
    yield folded
    overall = view.overall
    for name, column, doc in (
        ("aiobs_first_request_timestamp_seconds", "first_start", "Start of the earliest request read."),
        ("aiobs_last_request_timestamp_seconds", "last_start", "Start of the latest request read."),
    ):
        value = overall.get_column(column)[0] if column in overall.columns else None
        if value is not None:
            yield GaugeMetricFamily(name, doc, value=pl.Series([value]).dt.epoch("ms").item() / 1000)
    yield GaugeMetricFamily(
        "aiobs_run_timestamp_seconds", "When this summary was made.", value=summary.generated_at.timestamp()
    )


def check_push_url(url: str) -> None:
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError as exc:
        msg = f"--push: '{_without_password(url)}' is not a URL ({exc})"
        raise UsageError(msg) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        msg = f"--push needs the Pushgateway's http:// or https:// URL, got '{_without_password(url)}'"
        raise UsageError(msg)


def _without_password(url: str) -> str:
    return re.sub(r"//([^/@:]*):[^/@]*@", r"//\1:***@", url)


def push_metrics(url: str, summary: Summary) -> None:
    """`--push URL`: replace job aiobs's metrics on a Pushgateway with this run's. A user and password in
    the URL (http://user:pass@host:9091) are sent as HTTP basic authentication, never shown."""
    parts = urllib.parse.urlsplit(url)
    handler: Any = default_handler
    if parts.username is not None:
        user, password = urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")

        def handler(url: str, method: str, timeout: float | None, headers: Any, data: bytes) -> Any:
            return basic_auth_handler(url, method, timeout, headers, data, user, password)

        netloc = parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else ""
        url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    try:
        push_to_gateway(url, job="aiobs", registry=registry(summary), timeout=30, handler=handler)
    except OSError as exc:  # urllib's URLError and HTTPError are OSErrors
        detail = exc.read().decode(errors="replace").strip() if isinstance(exc, urllib.error.HTTPError) else ""
        reason = getattr(exc, "reason", None) or exc
        msg = f"cannot push the metrics to {_without_password(url)}: {reason}" + (f" ({detail})" if detail else "")
        raise UsageError(msg) from None
