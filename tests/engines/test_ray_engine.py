"""`--engine ray` gives the local engine's numbers exactly, on a real local Ray (2 CPUs, shared).

Every comparison is of whole documents (the JSON summary, the outliers, check's verdict) with only
`generated_at` left out: no float is rounded, since both engines add every sum in the same order
(aiobs.engines.ray_engine) and float sums are exact (aiobs.exact).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import Result
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.engines.ray_engine import RayEngine
from aiobs.render.json_csv import render_json
from aiobs.sample import write_sample
from aiobs.sources.paths import expand_inputs
from aiobs.summary import Summary, summarize
from conftest import S3Bucket

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("ray_cluster")]

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"
ENV = {"COLUMNS": "200"}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=ENV)


def document(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    if isinstance(doc, dict):
        doc.pop("generated_at", None)
    return doc


def both_engines(*args: str) -> tuple[Any, Any]:
    """The JSON document of a command, run with the local engine and with Ray."""
    local = document(invoke(*args, "--format", "json"))
    remote = document(invoke(*args, "--format", "json", "--engine", "ray"))
    return local, remote


@pytest.mark.parametrize("extra", [[], ["--by", "model", "--by", "route,user", "--every", "1h"]])
def test_summary_of_the_sample_logs_is_the_local_one(extra: list[str]) -> None:
    local, remote = both_engines("summarize", str(SAMPLES), *extra)
    assert remote == local
    assert local["overall"]["requests"] > 0  # the comparison is of something


def test_outliers_are_the_local_ones() -> None:
    local, remote = both_engines("outliers", str(SAMPLES), "--p", "95")
    assert remote == local
    assert local["outliers"], "no outliers to compare"


def test_check_verdicts_are_the_local_ones() -> None:
    slos = ["--slo", "p95(latency_ms) < 3000", "--slo", "error_rate < 50%"]
    local = invoke("check", str(SAMPLES), *slos)
    remote = invoke("check", str(SAMPLES), *slos, "--engine", "ray")
    assert (remote.exit_code, remote.stdout) == (local.exit_code, local.stdout)
    assert local.exit_code == 1  # one breached, one met: both verdicts are compared


@pytest.mark.parametrize("folder", ["otlp", "langsmith", "langchain", "litellm"])
def test_formats_and_run_trees_are_read_as_locally(fixtures: Path, folder: str) -> None:
    local, remote = both_engines("summarize", str(fixtures / folder))
    assert remote == local


@pytest.mark.s3
def test_s3_objects_are_read_on_the_workers(s3_bucket: S3Bucket) -> None:
    s3_bucket.put_tree(SAMPLES)
    url, endpoint = s3_bucket.url(), ["--endpoint-url", s3_bucket.endpoint]
    local, remote = both_engines("summarize", url, *endpoint)
    assert remote == local
    assert len(local["inputs"]) == 3


def test_an_unusable_input_on_ray_is_one_sentence(tmp_path: Path) -> None:
    result = invoke("summarize", "-", "--engine", "ray")
    assert result.exit_code == 2
    assert result.stderr == (
        "aiobs: --engine ray reads files and s3:// objects, not standard input or pipes (-): "
        "use --engine local for those\n"
    )


def test_without_ray_installed_the_engine_is_one_sentence_and_exit_2() -> None:
    script = (
        "import sys; sys.modules['ray'] = None\n"  # `import ray` now fails, as where it is not installed
        "from aiobs.cli import main\n"
        "sys.argv = ['aiobs', 'summarize', 'sample_logs', '--engine', 'ray']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (2, "aiobs: --engine ray needs Ray: pip install 'aiobs-cli[ray]'\n")


# A generated log of 240 MB in 14 files: many small ones grouped into parts, two large ones cut in ranges
# (RANGE), requests spread over files, 3 buckets shuffled.
RANGE = 24 << 20
BUCKETS = 3


@pytest.fixture(scope="module")
def split_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("split-logs")
    whole = folder.parent / "whole.jsonl"
    write_sample(whole, seed=7, target_bytes=240_000_000)
    sizes = [6_000_000] * 12 + [80_000_000]  # then the rest in one file: 14 files
    out, index, written = None, 0, 0
    with whole.open("rb") as lines:
        for line in lines:
            if out is None or (index < len(sizes) and written >= sizes[index]):
                if out is not None:
                    out.close()
                    index += 1
                out, written = (folder / f"part-{index:02d}.jsonl").open("wb"), 0
            out.write(line)
            written += len(line)
    assert out is not None
    out.close()
    whole.unlink()
    return folder


def summary_of(folder: Path, engine: RayEngine | None) -> tuple[Summary, dict[str, Any]]:
    summary = summarize(
        expand_inputs([str(folder)]), engine=engine, by=["model", "route"], n_buckets=BUCKETS, keep_events=True
    )
    doc = orjson.loads(render_json(summary))
    doc.pop("generated_at")
    return summary, doc


def test_many_files_and_cut_ranges_give_the_local_numbers_and_events(split_logs: Path) -> None:
    local, local_doc = summary_of(split_logs, None)
    remote, remote_doc = summary_of(split_logs, RayEngine(range_bytes=RANGE))
    assert remote_doc == local_doc
    assert local_doc["input_quality"]["by_kind"], "the sample plants malformed lines: their file:line must match"
    slowest = (
        local.requests.sort("latency_ms", descending=True, nulls_last=True).select("correlation_id").head(20).collect()
    )
    ids = slowest.to_series().to_list()
    order = ["correlation_id", "source", "line"]
    assert remote.events_of(ids).sort(order).equals(local.events_of(ids).sort(order))
    assert local.events_of(ids).height >= 20


def _read_part_workers() -> list[int]:
    """Processes of Ray workers running a `read_part` task now (Ray names a worker's process after its task)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"ray::read_part"):
            found.append(int(proc.name))
    return found


def test_a_worker_killed_mid_run_is_retried_and_the_summary_is_unchanged(split_logs: Path) -> None:
    _, local_doc = summary_of(split_logs, None)
    killed: list[int] = []

    def kill_one_reader() -> None:
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            for pid in _read_part_workers():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.01)

    killer = threading.Thread(target=kill_one_reader)
    killer.start()
    try:
        _, remote_doc = summary_of(split_logs, RayEngine(range_bytes=RANGE))
    finally:
        killer.join()
    assert killed, "no read_part worker was seen running, so none was killed"
    assert remote_doc == local_doc


def test_a_file_gone_before_it_is_read_is_an_input_issue_on_both(tmp_path: Path) -> None:
    for name in ("a.jsonl", "b.jsonl"):
        (tmp_path / name).write_bytes((SAMPLES / "chatbot.jsonl").read_bytes())
    sources = expand_inputs([str(tmp_path)])
    (tmp_path / "b.jsonl").unlink()
    docs = []
    for engine in (None, RayEngine()):
        doc = orjson.loads(render_json(summarize(sources, engine=engine)))
        doc.pop("generated_at")
        docs.append(doc)
    assert docs[1] == docs[0]
    assert "unreadable-chunk" in str(docs[0]["input_quality"])


def test_bad_lines_across_ranges_keep_their_file_and_line(tmp_path: Path) -> None:
    """A file cut in many ranges: every bad line's number, and a judgement over the whole file (no status
    in any line of it), come out as a read of the whole file gives them."""
    path = tmp_path / "log.jsonl"
    row = {"duration_ms": 10, "ts": "2026-11-28T10:00:00Z"}
    rows = [orjson.dumps({**row, "request_id": f"r{i % 50}"}) for i in range(3000)]
    for at in (5, 1234, 2999):
        rows[at] = b"{not json"
    path.write_bytes(b"\n".join(rows) + b"\n")
    docs = []
    for engine in (None, RayEngine(range_bytes=4096)):
        doc = orjson.loads(render_json(summarize(expand_inputs([str(path)]), engine=engine)))
        doc.pop("generated_at")
        docs.append(doc)
    assert docs[1] == docs[0]
    kinds = {kind["code"]: kind for kind in docs[0]["input_quality"]["by_kind"]}
    assert [(e["source"], e["line"]) for e in kinds["invalid-json"]["examples"]] == [
        (str(path), 6),
        (str(path), 1235),
        (str(path), 3000),
    ]
    assert kinds["unknown-status"]["count"] == 2997  # one judgement over the whole file, not one per range


def test_the_report_with_its_timelines_is_the_local_one(tmp_path: Path) -> None:
    """The report's outlier timelines read their events back from the workers (`events_of`)."""
    texts = []
    for engine in ("local", "ray"):
        out = tmp_path / engine / "report.md"
        out.parent.mkdir()
        result = invoke("report", str(SAMPLES), "-o", str(out), "--engine", engine)
        assert result.exit_code == 0, result.output
        texts.append([line for line in out.read_text().splitlines() if not line.startswith("| generated |")])
    assert texts[1] == texts[0]
    assert any("timeline" in line.lower() for line in texts[0])


def test_trace_reads_one_request_back_from_the_workers() -> None:
    request = "00f2e663-a688-4b7e-a532-da3460839461"
    local = invoke("trace", str(SAMPLES), "--id", request)
    remote = invoke("trace", str(SAMPLES), "--id", request, "--engine", "ray")
    assert local.exit_code == 0, local.output
    assert (remote.exit_code, remote.stdout) == (local.exit_code, local.stdout)


def test_the_engine_can_be_chosen_in_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "aiobs.toml"
    config.write_text('[engine]\nname = "ray"\n')
    local = document(invoke("summarize", str(SAMPLES), "--format", "json"))
    from_config = document(invoke("summarize", str(SAMPLES), "--format", "json", "--config", str(config)))
    assert from_config == local
    config.write_text('[engine]\nname = "spark"\n')
    wrong = invoke("summarize", str(SAMPLES), "--config", str(config))
    assert (wrong.exit_code, wrong.stderr) == (2, f"aiobs: {config}: engine.name must be local or ray, not 'spark'\n")


def test_the_config_address_does_not_stop_a_local_run(tmp_path: Path) -> None:
    config = tmp_path / "aiobs.toml"
    config.write_text('[engine]\nname = "ray"\nray_address = "ray://nowhere:10001"\n')
    result = invoke("summarize", str(SAMPLES), "--config", str(config), "--engine", "local", "-f", "json")
    assert result.exit_code == 0, result.output
    flag = invoke("summarize", str(SAMPLES), "--engine", "local", "--ray-address", "ray://nowhere:10001")
    assert (flag.exit_code, flag.stderr) == (2, "aiobs: --ray-address is for --engine ray\n")
