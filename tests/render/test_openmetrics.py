"""The Prometheus and OpenMetrics writers: escaped labels, bounded groups that add up, nothing made up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from aiobs.render.openmetrics import render_openmetrics, render_prometheus
from aiobs.sources.paths import expand_inputs
from aiobs.summary import Summary, summarize
from conftest import WriteJsonl


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, parsed back by prometheus-client's own parser."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def summary_of(path: Path) -> Summary:
    return summarize(expand_inputs([str(path)]))


def request(i: int, route: str, ms: float | None = None, model: str = "gpt-4o") -> dict[str, object]:
    row: dict[str, object] = {"request_id": f"r{i}", "event": "gateway", "route": route, "model": model, "status": "ok"}
    if ms is not None:
        row["duration_ms"] = ms
    return row


def test_hostile_label_values_come_back_as_they_were(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    route = 'a"b\\c\nd} e{x="y"}'
    summary = summary_of(write_jsonl(tmp_path / "log.jsonl", [request(1, route, 10.0)]))
    parsed = samples(render_prometheus(summary))
    labels = frozenset({"scope": "model_route", "model": "gpt-4o", "route": route}.items())
    assert parsed[("aiobs_requests", labels)] == 1


def test_the_busiest_pairs_are_kept_and_the_rest_add_up_as_other(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    rng = np.random.default_rng(3)
    rows, latencies_of = [], {}
    for r in range(30):  # route r has 30 - r requests, so the busiest are the first routes
        latencies = rng.lognormal(7, 1, 30 - r).round(1)
        latencies_of[f"/route/{r}"] = latencies
        rows += [request(len(rows) + i, f"/route/{r}", float(ms)) for i, ms in enumerate(latencies)]
    summary = summary_of(write_jsonl(tmp_path / "log.jsonl", rows))
    parsed = samples(render_prometheus(summary))
    groups = {
        dict(labels)["route"]: v for (name, labels), v in parsed.items() if name == "aiobs_requests" and len(labels) > 1
    }
    assert len(groups) == 21 and groups["other"] == sum(30 - r for r in range(20, 30))
    assert sum(groups.values()) == parsed[("aiobs_requests", frozenset({("scope", "overall")}))] == len(rows)
    folded = np.concatenate([latencies_of[f"/route/{r}"] for r in range(20, 30)])
    other = frozenset({"scope": "model_route", "model": "other", "route": "other", "quantile": "0.95"}.items())
    assert parsed[("aiobs_latency_seconds", other)] == pytest.approx(np.percentile(folded, 95) / 1000, rel=1e-12)
    assert parsed[("aiobs_folded_groups", frozenset())] == 10


def test_what_the_logs_do_not_give_is_left_out_not_zero(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    summary = summary_of(write_jsonl(tmp_path / "log.jsonl", [request(1, "/a"), request(2, "/a")]))
    text = render_prometheus(summary)
    parsed = samples(text)
    assert not [k for k in parsed if k[0] == "aiobs_latency_seconds"]  # no quantile from no latency
    assert not [k for k in parsed if k[0] == "aiobs_cost_usd"]  # no tokens, no price: no cost, not $0
    assert parsed[("aiobs_latency_seconds_count", frozenset({("scope", "overall")}))] == 0


def test_openmetrics_is_the_same_samples_ending_in_eof(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    summary = summary_of(write_jsonl(tmp_path / "log.jsonl", [request(1, "/a", 12.5)]))
    text = render_openmetrics(summary)
    assert text.endswith("# EOF\n")
    assert "# TYPE aiobs_latency_seconds summary" in text
    assert 'aiobs_latency_seconds{quantile="0.5",scope="overall"} 0.0125' in text
