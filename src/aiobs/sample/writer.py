"""Writing a sample: the generator's lines with malformed ones planted among them, to a file (plain, gzip
or zstd) or as an iterator."""

from __future__ import annotations

import gzip
import math
import random
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import orjson
import zstandard

from aiobs.errors import UsageError
from aiobs.sample.generator import APPS, DEFAULT_REQUESTS, DEFAULT_START, MALFORMED_KINDS, Generator, SampleStats

# ---------------------------------------------------------------------------------------------------------------------
# Malformed lines: extra lines, so the real requests stay intact whatever a reader does with them.


def _malformed_line(kind: str, good: bytes, rng: random.Random) -> bytes:
    """A bad line of `kind`, derived from the good line just written."""
    if kind == "truncated-json":
        # A writer killed mid-line. Cut before the closing brace, and on a character boundary (still UTF-8).
        cut = rng.randint(8, len(good) - 2)
        while good[cut] & 0xC0 == 0x80:
            cut -= 1
        return good[:cut] + b"\n"
    if kind == "not-an-object":
        return rng.choice((b"[1,2]\n", b'"healthcheck ok"\n', b"null\n", b"42\n"))
    obj = orjson.loads(good)
    if kind == "missing-request-id":
        obj.pop("request_id", None)
        obj["event_id"] = f"{rng.getrandbits(64):016x}"
        return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)
    # wrong-type / negative-latency: an extra `cache_lookup` event of the same request, starting with the good
    # line's event (so it never widens the request's time envelope) and carrying no tokens.
    extra: dict[str, Any] = {
        "ts": obj["ts"],
        "request_id": obj["request_id"],
        "event_id": f"{rng.getrandbits(64):016x}",
        "parent_id": obj.get("parent_id", obj.get("event_id")),
        "event": "cache_lookup",
        "hit": False,
        "latency_ms": "oops" if kind == "wrong-type" else -round(1.0 + 40.0 * rng.random(), 1),
    }
    return orjson.dumps(extra, option=orjson.OPT_APPEND_NEWLINE)


# ---------------------------------------------------------------------------------------------------------------------


def iter_sample_lines(
    *,
    seed: int = 0,
    start: datetime = DEFAULT_START,
    requests: int | None = None,
    target_bytes: int | None = None,
    malformed: bool = True,
    malformed_every: int = 5000,
    apps: Sequence[str] = APPS,
    requests_per_second: float = 20.0,
    stats: SampleStats | None = None,
) -> Iterator[bytes]:
    """Yield native-format JSON lines (each ending in b"\\n"), deterministically from `seed`.

    `requests` caps the number of requests generated, `target_bytes` the output size (the output
    stops at the last whole line that fits, so requests at the cut may lack their later events).
    With neither, 1,000 requests are generated. `malformed` plants about one bad line per
    `malformed_every` good ones, cycling through `MALFORMED_KINDS`. `requests_per_second` is
    the mean arrival rate (it follows a daily cycle). If `stats` is given, it is updated as lines
    are yielded.
    """
    if requests is None and target_bytes is None:
        requests = DEFAULT_REQUESTS
    if malformed_every < 2:
        msg = "malformed_every must be at least 2"
        raise ValueError(msg)
    stats = stats if stats is not None else SampleStats()
    generator = Generator(seed=seed, start=start, apps=apps, requests_per_second=requests_per_second)
    budget = target_bytes if target_bytes is not None else math.inf
    bad_rng = random.Random(f"aiobs-sample-malformed-{seed}")
    countdown = bad_rng.randint(malformed_every // 2, malformed_every * 3 // 2)
    kind = 0
    size = 0
    for line, first in generator.lines(requests):
        size += len(line)
        if size > budget:
            break
        stats.events += 1
        stats.requests += first
        stats.bytes = size
        yield line
        if not malformed:
            continue
        countdown -= 1
        if countdown == 0:
            countdown = bad_rng.randint(malformed_every // 2, malformed_every * 3 // 2)
            bad = _malformed_line(MALFORMED_KINDS[kind], line, bad_rng)
            kind = (kind + 1) % len(MALFORMED_KINDS)
            size += len(bad)
            if size > budget:
                break
            stats.malformed += 1
            stats.bytes = size
            yield bad


def write_sample(
    path: Path,
    *,
    seed: int = 0,
    start: datetime = DEFAULT_START,
    requests: int | None = None,
    target_bytes: int | None = None,
    malformed: bool = True,
    malformed_every: int = 5000,
    apps: Sequence[str] = APPS,
    requests_per_second: float = 20.0,
) -> SampleStats:
    """Write a sample log to `path`: plain, or gzip (level 6) / zstandard by the `.gz` / `.zst` suffix.

    Streams in ~1 MB chunks (bounded memory), writes to `<path>.part` and renames at the end, so an
    interrupted run never leaves a complete-looking file. `target_bytes` counts uncompressed bytes.
    Compressed output is byte-for-byte reproducible too (no timestamp in the gzip header).
    """
    stats = SampleStats()
    lines = iter_sample_lines(
        seed=seed,
        start=start,
        requests=requests,
        target_bytes=target_bytes,
        malformed=malformed,
        malformed_every=malformed_every,
        apps=apps,
        requests_per_second=requests_per_second,
        stats=stats,
    )
    if path.is_symlink():  # write where the link points, and keep the link
        path = path.resolve()
    if path.exists() and not path.is_file():  # renaming over a device or a pipe would replace it
        msg = f"cannot write {path}: it is not a regular file; give a file name"
        raise UsageError(msg)
    part = path.with_name(path.name + ".part")
    with part.open("wb") as raw:
        if path.suffix == ".gz":
            with gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0) as out:
                _copy_chunked(lines, out)
        elif path.suffix == ".zst":
            with zstandard.ZstdCompressor(level=10).stream_writer(raw, closefd=False) as out:
                _copy_chunked(lines, out)
        else:
            _copy_chunked(lines, raw)
    part.replace(path)
    stats.file_bytes = path.stat().st_size
    return stats


class _Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


def _copy_chunked(lines: Iterator[bytes], out: _Writable, chunk: int = 1 << 20) -> None:
    buf: list[bytes] = []
    buffered = 0
    for line in lines:
        buf.append(line)
        buffered += len(line)
        if buffered >= chunk:
            out.write(b"".join(buf))
            buf.clear()
            buffered = 0
    if buf:
        out.write(b"".join(buf))
