"""Bytes from a source, decompressed, cut into chunks of whole lines.

Compression is detected from the first bytes, not the file name. A compressed
stream that ends early (a truncated .gz or .zst, a copy that was cut off) is read
up to the cut and reported as `truncated-archive`; the run goes on.
"""

from __future__ import annotations

import ctypes
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

import zstandard

from aiobs.issues import InputIssue, IssueLog
from aiobs.sources.base import STDIN, Source, SourceUnavailable

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
READ_BYTES = 4 << 20
CHUNK_BYTES = 16 << 20  # with PARSE_THREADS in flight: best measured on 2 cores
#: Lines in a chunk at most (about): see `_few_lines`.
CHUNK_LINES = 1 << 20
#: The longest line read (a prompt with a 1M-token context is about 4 MB); longer ones are left out.
MAX_LINE_BYTES = 64 << 20


# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_allocator_tuned = False


def keep_freed_chunks() -> None:
    """Let glibc reuse the memory of freed chunks instead of unmapping it.

    A 16 MB bytes object is above glibc's mmap threshold, so every chunk is mapped afresh and pays
    ~4,000 page faults (about 15 ms on the 2-core machine, as much as copying it 5 times); reading a
    file cost more than parsing a third of it. Raising the mmap threshold to its maximum (32 MB) and
    the trim threshold keeps freed chunks in the heap for the next one. Polars' own allocator
    (jemalloc) is not affected. A no-op where the C library is not glibc.
    """
    global _allocator_tuned
    if _allocator_tuned or not sys.platform.startswith("linux"):
        return
    _allocator_tuned = True
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 64 << 20)
    except (OSError, AttributeError):
        pass


class _Decompressor(Protocol):
    eof: bool
    unused_data: bytes

    def decompress(self, data: bytes | memoryview) -> bytes: ...


def detect_compression(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


def _new_decompressor(kind: str) -> _Decompressor:
    return zstandard.ZstdDecompressor().decompressobj()  # type: ignore[return-value]


#: Compressed bytes given to a zstd decompressor at once: a frame whose checksum fails loses what this much
#: input decompressed to (zstd raises instead of returning it), so it is kept small.
ZSTD_FEED = 4 << 10
_FTEXT, _FHCRC, _FEXTRA, _FNAME, _FCOMMENT = 1, 2, 4, 8, 16


def _gzip_header_length(data: bytes) -> int | None:
    """Bytes of the gzip member header at the start of `data` (RFC 1952), None if `data` does not hold all of it;
    raises zlib.error when it is not a gzip header."""
    if len(data) < 10:
        return None
    if data[:2] != GZIP_MAGIC or data[2] != 8:
        raise zlib.error("not a gzip member header")
    flags, at = data[3], 10
    if flags & _FEXTRA:
        if len(data) < at + 2:
            return None
        at += 2 + int.from_bytes(data[at : at + 2], "little")
    for flag in (_FNAME, _FCOMMENT):
        if flags & flag:
            end = data.find(b"\0", at)
            if end < 0:
                return None
            at = end + 1
    if flags & _FHCRC:
        at += 2
    return at if len(data) >= at else None


def _gunzipped(stream: BinaryIO, head: bytes, source: Source, issues: IssueLog) -> Iterator[bytes]:
    """Concatenated gzip members, inflated raw so that a bad CRC or length loses nothing: zlib's own gzip
    mode raises on the trailer and drops everything the call inflated (megabytes). The trailer is checked
    here instead and a mismatch reported, with the member's data kept."""
    buffer, member, eof = head, 0, False
    while True:
        header = _gzip_header_length(buffer)
        while header is None and not eof:
            more = stream.read(READ_BYTES)
            eof = not more
            buffer += more
            header = _gzip_header_length(buffer)
        if header is None:
            if buffer.strip(b"\x00"):
                issues.record(
                    InputIssue("truncated-archive", source.name, None, "gzip stream ends early; read up to the cut")
                )
            return
        member += 1
        inflate, crc, size = zlib.decompressobj(-15), 0, 0
        data = buffer[header:]
        while not inflate.eof:
            # At most READ_BYTES out per call: a gzip of zeros inflates 1,000-fold, and memory must not.
            out = inflate.decompress(data, READ_BYTES)
            data = inflate.unconsumed_tail
            crc, size = zlib.crc32(out, crc), size + len(out)
            if out:
                yield out
            if inflate.eof:
                break
            if data or len(out) == READ_BYTES:  # input left, or output still inside zlib
                continue
            data = stream.read(READ_BYTES)
            if not data:
                issues.record(
                    InputIssue("truncated-archive", source.name, None, "gzip stream ends early; read up to the cut")
                )
                return
        trailer = inflate.unused_data
        while len(trailer) < 8 and (more := stream.read(READ_BYTES)):
            trailer += more
        if len(trailer) < 8:
            issues.record(
                InputIssue("truncated-archive", source.name, None, "gzip member has no trailer; read up to the cut")
            )
            return
        expected_crc, expected_size = int.from_bytes(trailer[:4], "little"), int.from_bytes(trailer[4:8], "little")
        if (expected_crc, expected_size) != (crc, size & 0xFFFFFFFF):
            message = (
                f"gzip member {member} fails its check (CRC or length): its {size:,} bytes were read, maybe damaged"
            )
            issues.record(InputIssue("corrupt-archive", source.name, None, message))
        buffer = trailer[8:]
        if not buffer.strip(b"\x00"):  # trailing zero padding is not a new member
            buffer = stream.read(READ_BYTES)
            if not buffer.strip(b"\x00"):
                return


def _decompressed(stream: BinaryIO, kind: str, head: bytes, source: Source, issues: IssueLog) -> Iterator[bytes]:
    """Yield decompressed bytes; concatenated members (gzip) or frames (zstd) are read one after another."""
    if kind == "gzip":
        try:
            yield from _gunzipped(stream, head, source, issues)
        except zlib.error as exc:
            message = f"corrupt gzip data, read up to it: {exc}"
            issues.record(InputIssue("truncated-archive", source.name, None, message))
        return
    decompressor = _new_decompressor(kind)
    mid_frame = False  # input consumed by a frame whose end we have not seen yet
    # The block is fed through a view: slicing the bytes themselves copied the rest of the block at every
    # piece (about 2 GB of copies per 4 MB block).
    buffer, at = memoryview(head), 0
    try:
        while True:
            if at >= len(buffer):
                if not (data := stream.read(READ_BYTES)):
                    break
                buffer, at = memoryview(data), 0
            # Small pieces: a frame whose checksum fails raises, losing what that call decompressed. The last
            # 4 bytes read go alone: at the end of a file they are the checksum, so its data is already out.
            left = len(buffer) - at
            cut = left - 4 if 4 < left < ZSTD_FEED + 4 else ZSTD_FEED
            piece, at = buffer[at : at + cut], at + cut
            mid_frame = True
            out = decompressor.decompress(piece)
            if out:
                yield out
            if decompressor.eof:
                rest = decompressor.unused_data + bytes(buffer[at:])
                decompressor = _new_decompressor(kind)
                mid_frame = bool(rest.strip(b"\x00"))  # trailing zero padding is not a new frame
                buffer, at = memoryview(rest if mid_frame else b""), 0
    except zstandard.ZstdError as exc:
        # A failed checksum is damage in an otherwise whole frame (corrupt-archive, as gzip's CRC); anything
        # else means the stream cannot be read past this point.
        code = "corrupt-archive" if "checksum" in str(exc).lower() else "truncated-archive"
        message = f"corrupt {kind} data, read up to it (at most {ZSTD_FEED >> 10} KB of input lost): {exc}"
        issues.record(InputIssue(code, source.name, None, message))
        return
    if mid_frame:
        issues.record(
            InputIssue("truncated-archive", source.name, None, f"{kind} stream ends early; read up to the cut")
        )


def iter_bytes(source: Source, issues: IssueLog, block: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The source's bytes in blocks of about `block` bytes, decompressed when they are gzip or zstd.

    A source that cannot be opened at all (an S3 object deleted since it was listed) is an input issue.
    """
    try:
        stream = source.open()
    except SourceUnavailable as exc:
        issues.record(InputIssue(exc.code, source.name, None, exc.reason))
        return
    try:
        head = stream.read(min(block, READ_BYTES))
        kind = "none" if source.is_part else detect_compression(head)
        if kind == "none":
            if len(head) < block and (rest := stream.read(block - len(head))):
                head += rest
            if head:
                yield head
            while data := stream.read(block):
                yield data
        else:
            pending: list[bytes] = []
            size = 0
            for data in _decompressed(stream, kind, head, source, issues):
                pending.append(data)
                size += len(data)
                if size >= block:
                    yield b"".join(pending)
                    pending, size = [], 0
            if pending:
                yield b"".join(pending)
    finally:
        if source != STDIN:
            stream.close()


@dataclass(frozen=True)
class Chunk:
    """Whole lines of one source; `first_line` is the 1-based line number of its first line."""

    source: str
    data: bytes
    first_line: int
    n_lines: int | None = None  # counted by the reader when it knows
    #: False when blank lines stand for lines already read (a pretty-printed document written as one line).
    count_blank: bool = True

    @property
    def line_count(self) -> int:
        return self.n_lines if self.n_lines is not None else self.data.count(b"\n")


def iter_chunks(
    source: Source, issues: IssueLog, chunk_bytes: int = CHUNK_BYTES, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[Chunk]:
    """Chunks of whole lines; the partial line at the end of a block is carried into the next.

    A line longer than `max_line_bytes` is left out (recorded as `line-too-long`, with its number) and
    its bytes are dropped as they arrive: memory holds at most one capped line and one block, whatever
    the input (`/dev/zero`, a gzip of zeros).
    """
    keep_freed_chunks()
    cap = max_line_bytes
    carry = b""
    line = source.first_line
    dropping = 0  # bytes so far of an over-long line whose end has not come yet
    for block in iter_bytes(source, issues, chunk_bytes):
        if line == 1 and not carry and not dropping:
            block = block.removeprefix(UTF8_BOM)  # Windows editors start a file with one: not part of line 1
        if dropping:
            end = block.find(b"\n")
            if end < 0:
                dropping += len(block)
                continue
            _record_too_long(issues, source, line, dropping + end, cap)
            line, dropping, block = line + 1, 0, block[end + 1 :]
        data = carry + block if carry else block
        cut = data.rfind(b"\n") + 1
        whole, carry = (data if cut == len(data) else data[:cut]), data[cut:]
        if len(carry) > cap:
            carry, dropping = b"", len(carry)
        if whole:
            n_lines = whole.count(b"\n")
            yield from _whole_lines(source, issues, whole, line, n_lines, cap)
            line += n_lines
    if dropping:
        _record_too_long(issues, source, line, dropping, cap)
    elif carry:
        yield Chunk(source.name, carry + b"\n", line, 1)


def _whole_lines(
    source: Source, issues: IssueLog, data: bytes, first_line: int, n_lines: int, cap: int
) -> Iterator[Chunk]:
    """`data` (`n_lines` whole lines) as chunks, leaving out the lines longer than `cap` (each recorded)."""
    at = 0
    for start, end in _long_lines(data, cap):
        number = first_line + data.count(b"\n", 0, start)
        if start > at:
            yield Chunk(source.name, data[at:start], first_line + data.count(b"\n", 0, at))
        _record_too_long(issues, source, number, end - start, cap)
        at = end + 1
    if at == 0:
        yield from _few_lines(Chunk(source.name, data, first_line, n_lines))
    elif at < len(data):
        yield from _few_lines(Chunk(source.name, data[at:], first_line + data.count(b"\n", 0, at)))


def _few_lines(chunk: Chunk) -> Iterator[Chunk]:
    """The chunk, cut into pieces of about `CHUNK_LINES` lines when it has more.

    A reader keeps a few bytes per line of a chunk (where each starts and ends): a 16 MB chunk of blank
    lines has 16 million of them. Cutting by lines keeps that bounded whatever the lines are.
    """
    count = chunk.line_count
    if count <= CHUNK_LINES:
        yield chunk
        return
    data, line, at = chunk.data, chunk.first_line, 0
    step = max(1, len(data) * CHUNK_LINES // count)
    while at < len(data):
        cut = data.find(b"\n", min(at + step, len(data) - 1)) + 1 or len(data)
        piece = data[at:cut]
        n_lines = piece.count(b"\n")
        yield Chunk(chunk.source, piece, line, n_lines, chunk.count_blank)
        line, at = line + n_lines, cut


def _long_lines(data: bytes, cap: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each line of `data` (whole lines) longer than `cap` bytes.

    Looks back for a newline in each window of `cap` bytes, so a clean chunk costs a few `rfind`s,
    not a loop over its lines.
    """
    at = 0  # always the start of a line
    while at + cap < len(data):
        newline = data.rfind(b"\n", at, at + cap + 1)
        if newline >= 0:
            at = newline + 1
            continue
        end = data.find(b"\n", at + cap)
        yield at, end
        at = end + 1


def _record_too_long(issues: IssueLog, source: Source, line: int, size: int, cap: int) -> None:
    message = (
        f"a line of {size:,} bytes, over the {cap >> 20} MB limit: left out "
        "(raise it with max_line_mb in [input] of aiobs.toml)"
    )
    issues.record(InputIssue("line-too-long", source.name, line, message))
