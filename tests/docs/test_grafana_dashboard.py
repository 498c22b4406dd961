"""docs/grafana/aiobs-dashboard.json: importable as is, and every query asks for what aiobs writes.

Grafana itself does not install here (no Debian package); what it needs of the file is checked
instead: every field known to Grafana's schema (through grafana-foundation-sdk's generated models), the
import input for the data source, unique panel ids, panels on Grafana's 24-column grid without overlap,
and variables defined before use. tests/cli/test_prometheus_cli.py runs every query
through a real Prometheus that scraped aiobs's output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from aiobs.cli import app

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "docs" / "grafana" / "aiobs-dashboard.json"
DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


def dashboard() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return doc


def queries(doc: dict[str, Any]) -> list[str]:
    """Every PromQL text in the dashboard: panel targets and variable queries."""
    found = [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]
    return found + [v["query"]["query"] for v in doc["templating"]["list"]]


def test_the_dashboard_imports_with_one_prometheus_input() -> None:
    doc = dashboard()
    assert [i["name"] for i in doc["__inputs"]] == ["DS_PROMETHEUS"]
    assert doc["__inputs"][0]["pluginId"] == "prometheus"
    panels = [p for p in doc["panels"] if p["type"] != "row"]
    assert all(p["datasource"] == DATASOURCE for p in panels)
    assert all(t["datasource"] == DATASOURCE and t["refId"] for p in panels for t in p["targets"])
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))


def test_panels_sit_on_the_grid_without_overlap() -> None:
    taken: set[tuple[int, int]] = set()
    for panel in dashboard()["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {(grid["x"] + dx, grid["y"] + dy) for dx in range(grid["w"]) for dy in range(grid["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


def test_every_variable_used_is_defined() -> None:
    doc = dashboard()
    defined = {v["name"] for v in doc["templating"]["list"]}
    used = {name for text in queries(doc) for name in re.findall(r"\$(\w+)", text)}
    assert used <= defined


def test_every_metric_asked_for_is_one_aiobs_writes() -> None:
    result = CliRunner().invoke(app, ["summarize", str(ROOT / "sample_logs"), "--format", "prometheus"])
    assert result.exit_code == 0, result.output
    written = set(re.findall(r"^# TYPE (\w+) ", result.stdout, flags=re.MULTILINE))
    asked = {name for text in queries(dashboard()) for name in re.findall(r"\b(aiobs_\w+)", text)}
    asked = {re.sub(r"_(count|sum)$", "", name) for name in asked}
    assert asked and asked <= written, asked - written


def test_grafanas_own_schema_types_read_every_field() -> None:
    """grafana-foundation-sdk's models are generated from Grafana's dashboard schema (and its panel and
    Prometheus query plugins'): a field they do not know is dropped on a round trip (they add the schema's
    defaults). Only the import section (`__inputs`, `__requires`), which Grafana reads first, may be."""
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models.dashboard import Dashboard

    register_default_plugins()
    doc = dashboard()
    again = json.loads(json.dumps(Dashboard.from_json(doc), cls=JSONEncoder))
    assert dropped({k: v for k, v in doc.items() if not k.startswith("__")}, again) == []


def dropped(given: Any, read: Any, where: str = "") -> list[str]:
    """Where `read` lacks or changed what `given` holds (keys `read` adds are defaults, not losses)."""
    if isinstance(given, dict) and isinstance(read, dict):
        return [
            w
            for k, v in given.items()
            for w in (dropped(v, read[k], f"{where}.{k}") if k in read else [f"{where}.{k}"])
        ]
    if isinstance(given, list) and isinstance(read, list) and len(given) == len(read):
        return [w for i, (a, b) in enumerate(zip(given, read, strict=True)) for w in dropped(a, b, f"{where}[{i}]")]
    return [] if given == read else [f"{where}: {given!r} read as {read!r}"]
