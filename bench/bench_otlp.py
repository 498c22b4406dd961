"""Time `aiobs summarize` on OTLP traces against the same requests in the native format.

The native logs come from `aiobs.sample` (seed 0, no malformed lines). Every event becomes an OTLP span
(the request ID as trace ID, the stage as `gen_ai.operation.name`, tokens and model as GenAI attributes,
`intValue`s as strings, as the Collector writes them); spans are shuffled and written 100 to a line, so
every trace is split across lines. Both files are summarized with `--format json` in a fresh process;
the script prints wall time, CPU time, MB/s and peak RSS of each, and checks both saw the same requests.

    .venv/bin/python bench/bench_otlp.py              # 100 MB of native logs (~45k requests)
    .venv/bin/python bench/bench_otlp.py --mb 400
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from aiobs.formats.mapping import FieldMapping
from aiobs.ingest import ingest
from aiobs.issues import IssueLog
from aiobs.sample import write_sample
from aiobs.sources.paths import expand_inputs

DATA = Path(__file__).resolve().parent / "data"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OPERATION = {"llm": "chat", "embedding": "embeddings", "retrieval": "retrieval", "tool": "execute_tool"}
ATTRIBUTES = (
    ("gen_ai.response.model", "model"),
    ("gen_ai.provider.name", "provider"),
    ("http.route", "route"),
    ("user.id", "user"),
    ("gen_ai.usage.input_tokens", "input_tokens"),
    ("gen_ai.usage.output_tokens", "output_tokens"),
    ("gen_ai.usage.cache_read.input_tokens", "cached_tokens"),
    ("gen_ai.usage.reasoning.output_tokens", "reasoning_tokens"),
    ("error.type", "error_type"),
)


def _hex(text: str, size: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _span(event: dict[str, Any]) -> dict[str, Any]:
    attrs = [{"key": key, "value": _value(event[col])} for key, col in ATTRIBUTES if event[col] is not None]
    if event["stage"] in OPERATION:
        attrs.append({"key": "gen_ai.operation.name", "value": {"stringValue": OPERATION[event["stage"]]}})
    if event["stage"] == "rerank":
        attrs.append({"key": "openinference.span.kind", "value": {"stringValue": "RERANKER"}})
    start = (event["start"] - EPOCH) // timedelta(microseconds=1) * 1000
    end = start + round(event["duration_ms"] * 1_000_000) if event["duration_ms"] is not None else 0
    span: dict[str, Any] = {
        "traceId": _hex(event["correlation_id"], 32),
        "spanId": _hex(f"{event['correlation_id']}/{event['event_id'] or event['line']}", 16),
    }
    if event["parent_id"] and not event["is_root"]:
        span["parentSpanId"] = _hex(event["parent_id"], 16)
    span |= {"name": event["event"], "kind": 3, "startTimeUnixNano": str(start), "endTimeUnixNano": str(end)}
    span["attributes"] = attrs
    span["status"] = {"code": 2, "message": "failed"} if event["is_error"] else {}
    return span


def make_inputs(mb: int) -> tuple[Path, Path]:
    DATA.mkdir(exist_ok=True)
    native, otlp = DATA / f"native_{mb}m.jsonl", DATA / f"otlp_{mb}m.jsonl"
    if not native.exists():
        write_sample(native, target_bytes=mb * 10**6, malformed=False)
    if not otlp.exists():
        ingested = ingest(expand_inputs([str(native)]), FieldMapping(), issues=IssueLog())
        spans = [
            _span(e) for b in range(ingested.store.n) for e in ingested.store.bucket(b).collect().iter_rows(named=True)
        ]
        ingested.close()
        random.Random(0).shuffle(spans)
        resource_ = {"attributes": [{"key": "service.name", "value": {"stringValue": "bench"}}]}
        with otlp.open("wb") as out:
            for i in range(0, len(spans), 100):
                line = {"resourceSpans": [{"resource": resource_, "scopeSpans": [{"spans": spans[i : i + 100]}]}]}
                out.write(orjson.dumps(line) + b"\n")
    return native, otlp


#: GNU time: wall seconds, user and system CPU seconds, peak RSS in KiB. A process started from this
#: script directly would report this script's peak RSS (Linux keeps the high-water mark across exec).
TIME = ["/usr/bin/time", "-f", "%e %U %S %M"]


def run(path: Path) -> dict[str, Any]:
    out = path.with_suffix(".summary.json")
    aiobs = shutil.which("aiobs", path=str(Path(sys.executable).parent)) or "aiobs"
    command = [*TIME, aiobs, "summarize", str(path), "--format", "json", "--output", str(out)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    wall, user, system, rss_kb = done.stderr.split()[-4:]
    summary = json.loads(out.read_text())
    size = path.stat().st_size
    return {
        "file": path.name,
        "MB": round(size / 1e6, 1),
        "wall_s": float(wall),
        "cpu_s": round(float(user) + float(system), 2),
        "MB/s": round(size / 1e6 / float(wall), 1),
        "peak_rss_MB": round(int(rss_kb) / 1024),
        "requests": summary["overall"]["requests"],
        "input_tokens": summary["overall"]["tokens"]["input"],
        "p50_ms": summary["overall"]["latency_ms"]["p50"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=100, help="size of the native logs in MB (the OTLP file is larger)")
    args = parser.parse_args()
    native, otlp = make_inputs(args.mb)
    rows = [run(native), run(otlp)]
    for row in rows:
        print("  ".join(f"{k}={v}" for k, v in row.items()))
    same = all(rows[0][k] == rows[1][k] for k in ("requests", "input_tokens", "p50_ms"))
    print("same requests, tokens and p50:", same)
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
