"""Fourteen nightly aiobs runs backfilled into a real Prometheus, and the dashboard's queries shown.

Run from the repository's root, with Debian's prometheus and chromium installed:

    python docs/grafana/preview.py docs/grafana/preview.png

Each night's logs are `aiobs sample` output (a different seed a night, so the lines move), summarized
with `--format openmetrics`; the samples are stamped with the night's time and loaded with
`promtool tsdb create-blocks-from openmetrics`. Prometheus then serves that store, and headless
Chromium takes a picture of its graph page running three of the dashboard's panel queries. Grafana
itself does not install here, so the picture is Prometheus' own page: the same queries and numbers,
not Grafana's styling.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

DASHBOARD = Path(__file__).with_name("aiobs-dashboard.json")
NIGHTS = 14
SCRAPE = 900  # seconds between the points written for a night
#: The dashboard's variables as a user might set them: two models on one route, every job.
CHOSEN = {"$job": ".*", "$model": "gpt-4o|claude-sonnet-4-5", "$route": "/rag/answer"}
SHOWN = ("p95 latency", "Error rate", "Quality flag rates")


def nightly_summary(folder: Path, night: int) -> str:
    logs = folder / f"night{night}.jsonl"
    subprocess.run(["aiobs", "sample", str(logs), "-n", "3000", "--seed", str(night)], check=True)
    command = ["aiobs", "summarize", str(logs), "--format", "openmetrics"]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def backfill(nights: list[str], first: int, out: Path) -> None:
    """As a scrape would have seen them: each night's values every SCRAPE seconds until the next night's.

    OpenMetrics wants a family's lines together and each series' points in time order, so the nights are
    regrouped by family, then series."""
    headers: dict[str, list[str]] = {}
    points: dict[str, dict[str, list[tuple[int, str]]]] = {}
    for night, text in enumerate(nights):
        for line in text.splitlines():
            if line.startswith("# EOF"):
                continue
            if line.startswith("#"):
                family = line.split()[2]
                headers.setdefault(family, []).append(line) if night == 0 else None
                continue
            series, value = line.rsplit(" ", 1)
            family = next(f for f in sorted(headers, key=len, reverse=True) if series.startswith(f))
            points.setdefault(family, {}).setdefault(series, []).append((night, value))
    with out.open("w", encoding="utf-8") as stream:
        for family, lines in headers.items():
            stream.write("\n".join(lines) + "\n")
            for series, values in points.get(family, {}).items():
                for night, value in values:
                    start = first + night * 86400
                    for stamp in range(start, start + 86400, SCRAPE):
                        stream.write(f"{series} {value} {stamp}\n")
        stream.write("# EOF\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def graph_url(base: str) -> str:
    panels = {p["title"]: p for p in json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]}
    params = {}
    for i, title in enumerate(SHOWN):
        expr = panels[title]["targets"][0]["expr"]
        for name, value in CHOSEN.items():
            expr = expr.replace(name, value)
        params |= {f"g{i}.expr": expr, f"g{i}.tab": "0", f"g{i}.range_input": f"{NIGHTS + 1}d"}
    return f"{base}/graph?" + urllib.parse.urlencode(params)


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        first = (int(time.time()) // 86400 - NIGHTS) * 86400 + 2 * 3600  # 02:00 UTC, a night each
        backfill([nightly_summary(folder, night) for night in range(NIGHTS)], first, folder / "nights.om")
        command = ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(folder / "nights.om")]
        subprocess.run([*command, str(folder / "tsdb")], check=True, capture_output=True)
        port = free_port()
        (folder / "prometheus.yml").write_text("global: {scrape_interval: 1m}\n")
        server = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=30d",
                f"--query.lookback-delta={SCRAPE + 60}s",  # a written point is seen until the next one
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/-/ready", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            subprocess.run(
                [
                    "chromium",
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    f"--user-data-dir={folder / 'chromium'}",
                    "--hide-scrollbars",
                    "--virtual-time-budget=8000",
                    "--window-size=1400,2560",
                    f"--screenshot={out.absolute()}",
                    graph_url(base),
                ],
                check=True,
                capture_output=True,
            )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "preview.png"))
