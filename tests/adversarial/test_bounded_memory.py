"""Memory stays bounded on hostile input: endless lines, gzip bombs, millions of blank lines.

Each case runs `aiobs summarize` in a child process and reads its peak RSS. The inputs are sized so
that an unbounded reader would pass the limit several times over (it held a line, an inflated call or
a Python object per blank line), while a bounded one stays near the ~170 MB an idle run takes.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

#: Peak RSS allowed, in MB: an idle run is ~170 MB, these inputs 200-490 MB (two chunks in flight, Polars'
#: allocator keeping what it freed); a reader holding its input would need 1.6 GB and more for each.
LIMIT_MB = 600
_RUN = """
import sys
from aiobs.cli import main
sys.argv = ["aiobs", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
# VmHWM, not getrusage: ru_maxrss keeps the parent's peak across fork and exec (a large pytest process).
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(peak // 1024, code, file=sys.stderr)
"""


def peak_rss(args: list[str], stdin: bytes | None = None) -> tuple[int, int, str]:
    """(peak RSS in MB, exit code, stderr) of `aiobs ARGS` in a child process."""
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *args], input=stdin, capture_output=True, timeout=300, check=False
    )
    stderr = done.stderr.decode()
    rss, code = stderr.strip().splitlines()[-1].split()
    return int(rss), int(code), stderr


@pytest.fixture(scope="module")
def small_cap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = tmp_path_factory.mktemp("config") / "aiobs.toml"
    config.write_text("[input]\nmax_line_mb = 16\n")
    return config


def test_endless_line_on_stdin(small_cap: Path) -> None:
    """800 MB without a newline (what `< /dev/zero` gives): dropped as it arrives, reported once."""
    rss, code, stderr = peak_rss(["summarize", "-", "--config", str(small_cap)], stdin=b"\0" * (800 << 20))
    assert rss < LIMIT_MB, stderr
    assert code == 2  # nothing usable
    assert "1 line-too-long" in stderr


def test_gzip_of_zeros(tmp_path: Path, small_cap: Path) -> None:
    """1 GB of zeros in 1 MB of gzip: inflated a bounded piece at a time."""
    path = tmp_path / "bomb.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=9) as out:
        for _ in range(64):
            out.write(b"\0" * (16 << 20))
    assert path.stat().st_size < 2 << 20
    rss, code, stderr = peak_rss(["summarize", str(path), "--config", str(small_cap)])
    assert rss < LIMIT_MB, stderr
    assert code == 2  # nothing usable
    assert "1 line-too-long" in stderr  # 1 GB with no newline is one line


def test_gzip_of_newlines_between_two_requests(tmp_path: Path) -> None:
    """100 million blank lines between two good ones: counted, skipped, and the good lines keep their numbers."""
    path = tmp_path / "blank.jsonl.gz"
    good = b'{"request_id":"r%d","ts":"2026-11-28T10:00:00Z","latency_ms":5}\n'
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(good % 1)
        for _ in range(10):
            out.write(b"\n" * 10_000_000)
        out.write(good % 2)
    rss, code, stderr = peak_rss(["summarize", str(path), "--format", "json", "--output", str(tmp_path / "s.json")])
    assert rss < LIMIT_MB, stderr
    assert code == 0, stderr
    summary = (tmp_path / "s.json").read_text()
    assert '"requests": 2' in summary
    assert '"code": "blank-line"' in summary
    assert '"count": 100000000' in summary
