"""A file cut in ranges and read part by part (the map tasks, run here without Ray) gives the events,
issues and tallies of the whole file read at once: the property every Ray run rests on."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import polars as pl

from aiobs.engines.plan import plan_parts
from aiobs.engines.tasks import PartRead, ReadSettings, measure_ranges, read_part
from aiobs.formats.mapping import FieldMapping
from aiobs.ingest import ingest
from aiobs.issues import IssueLog
from aiobs.sources.paths import expand_inputs
from aiobs.sources.ranges import ByteRange

BUCKETS = 3


def awkward_log(path: Path) -> Path:
    """JSON Lines with what moves when a file is cut: arrays and bad lines at range starts, blank lines."""
    lines = []
    for i in range(600):
        row = {"request_id": f"r{i % 40}", "event": "llm", "model": "gpt-4o", "duration_ms": i, "output_tokens": i}
        if i % 97 == 5:  # not the first line: a file that starts with an array is read as documents
            lines.append(b"[" + orjson.dumps(row) + b"]")  # a JSON array on one line: not an object
        elif i % 61 == 7:
            lines.append(b"{cut off")
        elif i % 53 == 9:
            lines.append(b"")
        else:
            lines.append(orjson.dumps(row))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_parts_read_apart_give_what_the_whole_file_gives(tmp_path: Path) -> None:
    path = awkward_log(tmp_path / "log.jsonl")
    sources = expand_inputs([str(path)])
    parts = plan_parts(
        sources, None, lambda s: [measure_ranges(x) for x in s], range_bytes=2048, max_line_bytes=1 << 20
    )
    assert len(parts) > 10 and all(isinstance(p.sources[0], ByteRange) for p in parts)

    whole_issues = IssueLog()
    whole = ingest(sources, FieldMapping(), n_buckets=BUCKETS, issues=whole_issues, whole_input=False, spill=False)
    settings = ReadSettings(FieldMapping(), 1 << 20, BUCKETS, None)
    results = [read_part(part, settings) for part in parts]
    issues, tallies = IssueLog(), Counter[str]()
    for meta, *_ in results:
        assert isinstance(meta, PartRead)
        issues.merge(meta.issues)
        for per_source in meta.tallies.values():
            tallies.update(per_source[str(path)])
    for b in range(BUCKETS):
        apart = pl.concat([frames[1 + b] for frames in results])
        assert apart.equals(whole.store.bucket(b).collect()), f"bucket {b}"
    assert issues.counts == whole_issues.counts
    assert issues.examples == whole_issues.examples
    assert tallies == Counter(whole.parsers["native"].file_tallies()[str(path)])


def test_a_file_that_cannot_be_measured_is_read_whole(tmp_path: Path) -> None:
    path = awkward_log(tmp_path / "log.jsonl")
    sources = expand_inputs([str(path)])
    parts = plan_parts(sources, None, lambda s: [None for _ in s], range_bytes=2048, max_line_bytes=1 << 20)
    assert [p.sources for p in parts] == [tuple(sources)]
