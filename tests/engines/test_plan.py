"""The input planned into parts for worker tasks: grouped small files, large plain files cut, order kept."""

from __future__ import annotations

import gzip
import json
import socket
from pathlib import Path

import pytest

from aiobs.engines.plan import Part, Split, plan_parts
from aiobs.engines.tasks import measure_ranges
from aiobs.errors import UsageError
from aiobs.sources.base import STDIN
from aiobs.sources.paths import expand_inputs
from aiobs.sources.ranges import ByteRange, MeasuredRange

LINE = b'{"request_id": "r1", "model": "gpt-4o", "duration_ms": 12}\n'


def measured_here(splits: list[Split]) -> list[list[MeasuredRange]]:
    return [measure_ranges(split) for split in splits]


def plan(paths: list[str], range_bytes: int, input_format: str | None = None) -> list[Part]:
    sources = expand_inputs(paths)
    return plan_parts(sources, input_format, measured_here, range_bytes=range_bytes, max_line_bytes=1 << 20)


def names(part: Part) -> list[str]:
    return [Path(s.name).name for s in part.sources]


def test_small_files_are_grouped_in_input_order_up_to_a_part(tmp_path: Path) -> None:
    for index in range(5):
        (tmp_path / f"{index}.jsonl").write_bytes(LINE * 10)
    parts = plan([str(tmp_path)], range_bytes=len(LINE) * 22)
    assert [names(p) for p in parts] == [["0.jsonl", "1.jsonl"], ["2.jsonl", "3.jsonl"], ["4.jsonl"]]
    assert [p.size for p in parts] == [len(LINE) * 20, len(LINE) * 20, len(LINE) * 10]


def test_a_large_plain_file_is_cut_at_line_ends_and_numbered(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(LINE * 2)
    (tmp_path / "b.jsonl").write_bytes(LINE * 100)
    (tmp_path / "c.jsonl").write_bytes(LINE)
    parts = plan([str(tmp_path)], range_bytes=len(LINE) * 17)
    assert names(parts[0]) == ["a.jsonl"]
    cut = [p.sources[0] for p in parts[1:-1]]
    assert all(isinstance(r, ByteRange) for r in cut)
    assert [r.first_line for r in cut if isinstance(r, ByteRange)] == [1, 18, 35, 52, 69, 86]
    assert all(p.input_format == "native" for p in parts[1:-1])  # detected once, from the file's first chunk
    assert names(parts[-1]) == ["c.jsonl"]
    assert parts[0].input_format is None  # whole files are detected by the worker, one by one


def test_compressed_files_and_json_documents_are_never_cut(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(LINE * 100))
    (tmp_path / "b.json").write_text(json.dumps([json.loads(LINE)] * 100, indent=2))
    parts = plan([str(tmp_path / "a.jsonl.gz"), str(tmp_path / "b.json")], range_bytes=100)
    assert [names(p) for p in parts] == [["a.jsonl.gz"], ["b.json"]]
    assert not any(isinstance(s, ByteRange) for p in parts for s in p.sources)


def test_a_forced_format_holds_for_every_part(tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_bytes(LINE * 100)
    parts = plan([str(tmp_path)], range_bytes=1000, input_format="structlog")
    assert {p.input_format for p in parts} == {"structlog"}


def test_standard_input_is_refused_in_one_sentence() -> None:
    with pytest.raises(UsageError, match="not standard input or pipes"):
        plan_parts([STDIN], None, measured_here, range_bytes=100, max_line_bytes=100)


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("notanaddress", "--ray-address must be HOST:PORT or ray://HOST:PORT (Ray Client), not 'notanaddress'"),
        (
            "http://head:10001",
            "--ray-address must be HOST:PORT or ray://HOST:PORT (Ray Client), not 'http://head:10001'",
        ),
        ("ray://127.0.0.1:{port}", "cannot reach the Ray cluster at ray://127.0.0.1:{port}: Connection refused"),
        ("127.0.0.1:{port}", "cannot reach the Ray cluster at 127.0.0.1:{port}: Connection refused"),
    ],
)
def test_a_cluster_address_that_cannot_work_is_one_sentence_at_once(address: str, message: str) -> None:
    """Ray itself would retry an address where nothing listens for minutes, printing its own warnings."""
    from aiobs.engines.ray_engine import _check_reachable

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(UsageError) as error:
        _check_reachable(address.format(port=port))
    assert str(error.value) == message.format(port=port)
