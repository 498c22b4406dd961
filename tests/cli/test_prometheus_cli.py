"""`--format prometheus` and `--push` end to end: aiobs writes, Prometheus scrapes, its query API answers.

Debian's prometheus, prometheus-node-exporter (textfile collector) and prometheus-pushgateway run as
real processes on loopback (`.ci/run` installs them); every number Prometheus returns is compared with
the one in aiobs's JSON summary of the same logs, and every query of the Grafana dashboard in docs/grafana
is run through Prometheus and must answer with data.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from aiobs.cli import app

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"
DASHBOARD = ROOT / "docs" / "grafana" / "aiobs-dashboard.json"
runner = CliRunner()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args} exited: {process.stderr.read() if process.stderr else ''!r}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


class Servers:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], ready: str) -> None:
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.processes.append(process)
        wait_ready(ready, process)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)
            if process.stderr is not None:
                process.stderr.close()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    running = Servers(tmp_path)
    yield running
    running.stop()


def summary_json() -> dict[str, Any]:
    result = runner.invoke(app, ["summarize", str(SAMPLES), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = orjson.loads(result.stdout)
    return doc


def query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=10) as response:
        answer = json.load(response)
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def test_prometheus_scrapes_what_aiobs_wrote_and_pushed(servers: Servers) -> None:
    for tool in ("prometheus", "prometheus-node-exporter", "prometheus-pushgateway", "promtool"):
        assert shutil.which(tool), f"{tool} is not installed (.ci/run installs Debian's prometheus packages)"
    textfiles = servers.folder / "textfiles"
    textfiles.mkdir()
    node, gateway, prom = free_port(), free_port(), free_port()
    servers.start(
        [
            "prometheus-node-exporter",
            f"--web.listen-address=127.0.0.1:{node}",
            "--collector.disable-defaults",
            "--collector.textfile",
            f"--collector.textfile.directory={textfiles}",
        ],
        f"http://127.0.0.1:{node}/metrics",
    )
    servers.start(
        ["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{gateway}"], f"http://127.0.0.1:{gateway}/-/ready"
    )

    written = runner.invoke(app, ["summarize", str(SAMPLES), "-o", str(textfiles / "aiobs.prom")])
    assert written.exit_code == 0, written.output
    lint = subprocess.run(
        ["promtool", "check", "metrics"], input=(textfiles / "aiobs.prom").read_bytes(), capture_output=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    pushed = runner.invoke(app, ["summarize", str(SAMPLES), "--push", f"http://127.0.0.1:{gateway}", "-f", "json"])
    assert pushed.exit_code == 0, pushed.output

    config = servers.folder / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - {{job_name: node, static_configs: [{{targets: ['127.0.0.1:{node}']}}]}}\n"
        f"  - {{job_name: gateway, honor_labels: true, static_configs: [{{targets: ['127.0.0.1:{gateway}']}}]}}\n"
    )
    servers.start(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={servers.folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{prom}",
        ],
        f"http://127.0.0.1:{prom}/-/ready",
    )
    base = f"http://127.0.0.1:{prom}"
    deadline = time.monotonic() + 60
    while len(query(base, 'aiobs_requests{scope="overall"}')) < 2:  # one series from each path in
        assert time.monotonic() < deadline, "Prometheus never scraped both the textfile and the Pushgateway"
        time.sleep(0.5)

    doc = summary_json()
    overall = doc["overall"]
    expected = {
        'aiobs_requests{scope="overall"}': overall["requests"],
        'aiobs_error_ratio{scope="overall"}': overall["error_rate"],
        'aiobs_latency_seconds{scope="overall",quantile="0.95"}': overall["latency_ms"]["p95"] / 1000,
        'aiobs_cost_usd{scope="overall"}': overall["cost_usd"],
        'aiobs_tokens{scope="overall",kind="output"}': overall["tokens"]["output"],
    }
    for promql, value in expected.items():
        series = query(base, promql)
        assert {s["metric"]["job"] for s in series} == {"node", "aiobs"}, promql  # the textfile, the push
        for one in series:
            assert float(one["value"][1]) == pytest.approx(value, rel=1e-12), promql
    groups = query(base, 'sum(aiobs_requests{scope="model_route",job="aiobs"})')
    assert float(groups[0]["value"][1]) == overall["requests"]  # the groups, `other` included, add up
    answers_every_dashboard_query(base)


def answers_every_dashboard_query(base: str) -> None:
    """The Grafana dashboard's panels and variables, "All" selected, each answered with data."""
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    everything = {"$job": ".*", "$model": ".*", "$route": ".*"}
    for panel in doc["panels"]:
        for target in panel.get("targets", []):
            promql = target["expr"]
            for name, value in everything.items():
                promql = promql.replace(name, value)
            assert query(base, promql), f"{panel['title']}: {promql} returns nothing"
    for variable in doc["templating"]["list"]:
        call = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["query"]["query"])
        assert call, variable["name"]
        match, label = call.group(1).replace("$job", ".*"), call.group(2)
        url = f"{base}/api/v1/label/{label}/values?" + urllib.parse.urlencode({"match[]": match})
        with urllib.request.urlopen(url, timeout=10) as response:
            assert json.load(response)["data"], f"variable {variable['name']} has no values"


def test_a_pushgateway_that_is_not_there_is_one_sentence() -> None:
    port = free_port()
    result = runner.invoke(app, ["summarize", str(SAMPLES), "--push", f"http://127.0.0.1:{port}", "-f", "json"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"aiobs: cannot push the metrics to http://127.0.0.1:{port}: ")
    assert "Traceback" not in result.output


def test_a_push_url_that_is_not_http_is_refused_before_reading() -> None:
    result = runner.invoke(app, ["summarize", "does-not-exist/", "--push", "localhost:9091"])
    assert (result.exit_code, result.stderr) == (
        2,
        "aiobs: --push needs the Pushgateway's http:// or https:// URL, got 'localhost:9091'\n",
    )


def test_a_password_in_the_push_url_is_sent_as_basic_auth_and_never_shown() -> None:
    import base64
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    seen: dict[str, str] = {}

    class Gateway(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            seen["path"], seen["auth"] = self.path, self.headers.get("Authorization", "")
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"bad metric name")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        url = f"http://ci:s3cr%40t@127.0.0.1:{server.server_port}"
        result = runner.invoke(app, ["summarize", str(SAMPLES), "--push", url, "-f", "json"])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert seen["path"] == "/metrics/job/aiobs"
    assert seen["auth"] == "Basic " + base64.b64encode(b"ci:s3cr@t").decode()
    assert result.exit_code == 2
    assert result.stderr == (
        f"aiobs: cannot push the metrics to http://127.0.0.1:{server.server_port}: Bad Request (bad metric name)\n"
    )
    assert "s3cr" not in result.output
