"""Where the wall time of `aiobs summarize` goes, step by step, on one input.

    .venv/bin/python bench/stages.py bench/data/logs_1g.jsonl [--no-flags] [--rounds 2]

Runs the library call behind `aiobs summarize FILE --format json` with timers around each step of the
main thread, so the rows add up to the wall time (the last row is what no timer covered). The parse runs
on worker threads while the main thread reads, waits and spills: its thread-seconds are shown below the
table, not in the sum. Imports are timed once, in a fresh interpreter, as the CLI pays them.

Timers wrap module functions (monkeypatching), so this script knows aiobs's internals; it is a
measuring tool, not part of the package.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import polars as pl  # noqa: E402

import aiobs.ingest as ingest_module  # noqa: E402
import aiobs.rebuild as rebuild_module  # noqa: E402
import aiobs.reducer as reducer_module  # noqa: E402
import aiobs.summary as summary_module  # noqa: E402
from aiobs.render.json_csv import render_json  # noqa: E402
from aiobs.sources import expand_inputs  # noqa: E402

#: (row label, module, function name): main-thread steps, in pipeline order.
MAIN_STEPS = [
    ("ingest: add to buckets, spill (lz4 IPC)", ingest_module.BucketStore, "add_split"),
    ("ingest: place run trees", ingest_module, "_place_runs"),
    ("merge: partial rows, per bucket", rebuild_module, "merge_partials"),
    ("finalize: requests from merged rows", rebuild_module, "finalize_requests"),
    ("event way: fold details and phases", rebuild_module, "merge_details"),
    ("event way: fold details and phases", rebuild_module, "merge_phases"),
    ("event way: price events", rebuild_module, "price_events"),
    ("event way: rebuild requests (group by correlation ID)", rebuild_module, "rebuild_requests"),
    ("event way: spend and unpriced partials", rebuild_module, "spend_partial"),
    ("event way: spend and unpriced partials", rebuild_module, "unpriced_models"),
    ("finalize: quality flags", rebuild_module, "add_flags"),
    ("finalize: private labels", rebuild_module, "private_labels"),
    ("metrics over the request table", summary_module, "summarize_requests"),
    ("metrics over the request table", summary_module, "cost_comparison"),
    ("metrics over the request table", summary_module, "errors_by_rule"),
]


class Timers:
    def __init__(self) -> None:
        self.main: Counter[str] = Counter()
        self.threads: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._main = threading.main_thread()

    def add(self, label: str, seconds: float) -> None:
        with self._lock:
            if threading.current_thread() is self._main:
                self.main[label] += seconds
            else:
                self.threads[label] += seconds

    def wrap(self, owner: Any, name: str, label: str) -> None:
        function = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = function(*args, **kwargs)
                if isinstance(result, pl.LazyFrame):  # collect here, so its time is its own
                    result = result.collect().lazy()
                return result
            finally:
                self.add(label, time.perf_counter() - started)

        setattr(owner, name, timed)

    def wrap_iterator(self, owner: Any, name: str, label: str) -> None:
        function: Callable[..., Iterator[Any]] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            items = function(*args, **kwargs)
            while True:
                started = time.perf_counter()
                try:
                    item = next(items)
                except StopIteration:
                    return
                finally:
                    self.add(label, time.perf_counter() - started)
                yield item

        setattr(owner, name, timed)


def install(timers: Timers) -> None:
    for label, owner, name in MAIN_STEPS:
        timers.wrap(owner, name, label)
    timers.wrap_iterator(ingest_module, "_batches", "ingest: read, detect formats, form batches")
    timers.wrap(ingest_module.Batch, "events", "parse (per batch)")
    timers.wrap(reducer_module.ChunkReducer, "__call__", "reduce to partial rows (per batch)")
    timers.wrap(ingest_module.BucketStore, "split", "split by bucket")
    # The main thread waits for the oldest batch in flight: the parse it could not overlap.
    original = ingest_module._in_parallel

    def in_parallel(parse: Any, batches: Any) -> Iterator[Any]:
        results = original(parse, batches)
        while True:
            started = time.perf_counter()
            try:
                item = next(results)
            except StopIteration:
                return
            finally:
                # Time inside `next` includes reading the next batches (timed above): subtracted below.
                timers.add("_in_parallel", time.perf_counter() - started)
            yield item

    ingest_module._in_parallel = in_parallel
    original_bucket = ingest_module.BucketStore.bucket

    def bucket(self: Any, b: int) -> Any:
        started = time.perf_counter()
        frame = original_bucket(self, b).collect()
        timers.add("read a bucket back", time.perf_counter() - started)
        return frame.lazy()

    ingest_module.BucketStore.bucket = bucket


def import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import aiobs.cli; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.strip())


def one_round(path: str, flags: bool, timers: Timers) -> tuple[float, Timers]:
    timers.main.clear()
    timers.threads.clear()
    started = time.perf_counter()
    summary = summary_module.summarize(expand_inputs([path]), flags=flags, keep_texts=False)
    render_started = time.perf_counter()
    render_json(summary)
    timers.add("render JSON", time.perf_counter() - render_started)
    if summary.workspace is not None:
        summary.workspace.close()
    return time.perf_counter() - started, timers


def table(wall: float, timers: Timers, imports: float) -> str:
    main = Counter(timers.main)
    waited = main.pop("_in_parallel", 0.0) - main["ingest: read, detect formats, form batches"]
    main["ingest: wait for the parse threads"] = max(waited, 0.0)
    rows = [("imports (fresh interpreter)", imports), *sorted(main.items(), key=lambda kv: _order(kv[0]))]
    covered = sum(main.values())
    rows.append(("other (summary bookkeeping, not timed)", wall - covered))
    total = imports + wall
    lines = ["| step (main thread) | wall s | share |", "|---|---|---|"]
    lines += [f"| {label} | {seconds:.2f} | {seconds / total:.0%} |" for label, seconds in rows]
    lines.append(f"| **total** | **{total:.2f}** | |")
    lines.append("")
    lines.append("Worker threads (thread-seconds, overlapping the main thread and each other):")
    lines += [f"- {label}: {seconds:.2f} s" for label, seconds in timers.threads.most_common()]
    return "\n".join(lines)


#: Row order: the pipeline's.
ORDER = [
    "ingest: read, detect formats, form batches",
    "ingest: wait for the parse threads",
    *dict.fromkeys(label for label, _, _ in MAIN_STEPS[:2]),
    "read a bucket back",
    *dict.fromkeys(label for label, _, _ in MAIN_STEPS[2:]),
    "render JSON",
]


def _order(label: str) -> int:
    return ORDER.index(label) if label in ORDER else len(ORDER)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--no-flags", action="store_true")
    parser.add_argument("--rounds", type=int, default=1, help="report the fastest of this many rounds")
    args = parser.parse_args()
    imports = import_seconds()
    best: tuple[float, Timers] | None = None
    timers = Timers()
    install(timers)
    for _ in range(args.rounds):
        wall, _ = one_round(args.path, not args.no_flags, timers)
        if best is None or wall < best[0]:
            kept = Timers()
            kept.main, kept.threads = Counter(timers.main), Counter(timers.threads)
            best = (wall, kept)
    assert best is not None
    print(f"{args.path}, flags {'off' if args.no_flags else 'on'}: {best[0] + imports:.2f} s\n")
    print(table(best[0], best[1], imports))


if __name__ == "__main__":
    main()
