"""Reading sources: compression by magic bytes, concatenated members, truncated archives, chunking."""

from __future__ import annotations

import functools
import gzip
import random
from pathlib import Path

import pytest
import zstandard

from aiobs.issues import IssueLog
from aiobs.sources import read
from aiobs.sources.base import Source
from aiobs.sources.read import Chunk, detect_compression, iter_bytes, iter_chunks


def source_of(path: Path) -> Source:
    return Source(str(path), path, path.stat().st_size)


@functools.cache
def text_lines(n: int, seed: int = 0) -> bytes:
    """n JSONL lines of varying length whose content does not compress to nothing."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        payload = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 ") for _ in range(rng.randint(5, 120)))
        out.append(f'{{"request_id":"r{i}","event":"llm","i":{i},"text":"{payload}"}}\n'.encode())
    return b"".join(out)


def read_all(path: Path) -> tuple[bytes, IssueLog]:
    issues = IssueLog()
    data = b"".join(iter_bytes(source_of(path), issues))
    return data, issues


def zstd_compress(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=3).compress(data)


# -- detection -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (gzip.compress(b"x"), "gzip"),
        (zstd_compress(b"x"), "zstd"),
        (b'{"a":1}\n', "none"),
        (b"", "none"),
        (b"\x1f", "none"),
    ],
)
def test_detect_compression(head: bytes, kind: str) -> None:
    assert detect_compression(head) == kind


def test_plain_file_is_read_verbatim(tmp_path: Path) -> None:
    data = text_lines(50)
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)
    got, issues = read_all(path)
    assert got == data
    assert not issues.counts


@pytest.mark.parametrize("name", ["plain-name.jsonl", "misleading.jsonl.zst", "no-suffix"])
def test_gzip_detected_by_magic_bytes_not_suffix(tmp_path: Path, name: str) -> None:
    data = text_lines(200)
    path = tmp_path / name
    path.write_bytes(gzip.compress(data))
    got, issues = read_all(path)
    assert got == data
    assert not issues.counts


@pytest.mark.parametrize("name", ["plain-name.jsonl", "misleading.jsonl.gz"])
def test_zstd_detected_by_magic_bytes_not_suffix(tmp_path: Path, name: str) -> None:
    data = text_lines(200)
    path = tmp_path / name
    path.write_bytes(zstd_compress(data))
    got, issues = read_all(path)
    assert got == data
    assert not issues.counts


@pytest.mark.parametrize("name", ["looks-gzipped.jsonl.gz", "looks-zstd.jsonl.zst"])
def test_plain_text_with_a_compressed_suffix_is_read_as_text(tmp_path: Path, name: str) -> None:
    data = text_lines(20)
    path = tmp_path / name
    path.write_bytes(data)
    got, issues = read_all(path)
    assert got == data
    assert not issues.counts


def test_concatenated_gzip_members_are_all_read(tmp_path: Path) -> None:
    parts = [text_lines(30, seed=s) for s in range(4)]
    path = tmp_path / "rotated.jsonl.gz"
    path.write_bytes(b"".join(gzip.compress(p) for p in parts))
    got, issues = read_all(path)
    assert got == b"".join(parts)
    assert not issues.counts


def test_concatenated_gzip_members_across_read_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read, "READ_BYTES", 97)
    parts = [text_lines(40, seed=s) for s in range(3)]
    path = tmp_path / "rotated.jsonl.gz"
    path.write_bytes(b"".join(gzip.compress(p) for p in parts))
    got, issues = read_all(path)
    assert got == b"".join(parts)
    assert not issues.counts


def test_gzip_with_trailing_zero_padding_is_not_truncated(tmp_path: Path) -> None:
    data = text_lines(30)
    path = tmp_path / "padded.jsonl.gz"
    path.write_bytes(gzip.compress(data) + b"\x00" * 512)
    got, issues = read_all(path)
    assert got == data
    assert not issues.counts


def test_concatenated_zstd_frames_are_all_read(tmp_path: Path) -> None:
    parts = [text_lines(30, seed=s) for s in range(3)]
    path = tmp_path / "frames.jsonl.zst"
    path.write_bytes(b"".join(zstd_compress(p) for p in parts))
    got, issues = read_all(path)
    assert got == b"".join(parts)
    assert not issues.counts


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
@pytest.mark.parametrize("fraction", [0.3, 0.7])
def test_truncated_archive_reads_up_to_the_cut_and_reports_once(tmp_path: Path, kind: str, fraction: float) -> None:
    # zstd decodes whole blocks (up to 128 KiB of output each): use enough data for several blocks.
    data = text_lines(12_000)
    packed = gzip.compress(data) if kind == "gzip" else zstd_compress(data)
    cut = packed[: int(len(packed) * fraction)]
    path = tmp_path / f"cut.jsonl.{'gz' if kind == 'gzip' else 'zst'}"
    path.write_bytes(cut)
    got, issues = read_all(path)
    assert data.startswith(got), "decompressed bytes must be a prefix of the original"
    # The stream is read up to the cut: most of what the kept bytes encode comes out (not nothing).
    assert len(got) >= len(data) * fraction * 0.5
    assert len(got) < len(data)
    assert dict(issues.counts) == {"truncated-archive": 1}
    [example] = issues.examples["truncated-archive"]
    assert example.source == str(path)


def test_truncated_second_gzip_member_keeps_the_first(tmp_path: Path) -> None:
    first, second = text_lines(100, seed=1), text_lines(2000, seed=2)
    second_packed = gzip.compress(second)
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(gzip.compress(first) + second_packed[: len(second_packed) // 2])
    got, issues = read_all(path)
    assert got.startswith(first)
    assert (first + second).startswith(got)
    assert len(got) > len(first)
    assert dict(issues.counts) == {"truncated-archive": 1}


def test_corrupt_gzip_after_a_good_member_is_reported(tmp_path: Path) -> None:
    first = text_lines(50)
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(gzip.compress(first) + b"\x1f\x8b\x08\x00garbage-garbage-garbage")
    got, issues = read_all(path)
    assert got.startswith(first)
    assert issues.counts["truncated-archive"] == 1


def test_truncated_archive_through_chunks_gives_whole_lines(tmp_path: Path) -> None:
    data = text_lines(3000)
    blob = gzip.compress(data)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(blob[: len(blob) // 2])
    issues = IssueLog()
    chunks = list(iter_chunks(source_of(path), issues, chunk_bytes=4096))
    joined = b"".join(c.data for c in chunks)
    assert all(c.data.endswith(b"\n") for c in chunks)
    # every line but the last (cut) one is a whole line of the original
    *whole, last = joined.split(b"\n")[:-1]
    original = data.split(b"\n")
    assert whole == original[: len(whole)]
    assert original[len(whole)].startswith(last)
    assert issues.counts["truncated-archive"] == 1


# -- chunking --------------------------------------------------------------------------------------------


def check_chunks(chunks: list[Chunk], data: bytes, name: str) -> None:
    expected = data if data.endswith(b"\n") else data + b"\n"
    assert b"".join(c.data for c in chunks) == expected
    line = 1
    for chunk in chunks:
        assert chunk.source == name
        assert chunk.data.endswith(b"\n")
        assert chunk.first_line == line
        line += chunk.data.count(b"\n")


@pytest.mark.parametrize(
    ("read_bytes", "chunk_bytes"), [(1, 1), (7, 64), (7, 1000), (64, 64), (64, 10_000), (4096, 10_000)]
)
def test_chunks_keep_whole_lines_and_first_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int, read_bytes: int
) -> None:
    """READ_BYTES (the first read, used to sniff compression) is shrunk too, so a small file makes many chunks."""
    monkeypatch.setattr(read, "READ_BYTES", read_bytes)
    data = text_lines(400)
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)
    chunks = list(iter_chunks(source_of(path), IssueLog(), chunk_bytes=chunk_bytes))
    check_chunks(chunks, data, str(path))
    assert len(chunks) > 1


@pytest.mark.parametrize("kind", ["none", "gzip"])
def test_chunk_size_below_the_first_read_size(tmp_path: Path, kind: str) -> None:
    """Any chunk size works, including one smaller than the first read (READ_BYTES, 4 MiB) on a larger file."""
    data = text_lines(40_000)  # about 4.7 MB
    assert len(data) > read.READ_BYTES
    path = tmp_path / "big.jsonl"
    path.write_bytes(data if kind == "none" else gzip.compress(data, compresslevel=1))
    issues = IssueLog()
    chunks = list(iter_chunks(source_of(path), issues, chunk_bytes=1 << 20))
    check_chunks(chunks, data, str(path))
    if kind == "none":  # decompressed data arrives in pieces as large as one read inflates to
        assert len(chunks) >= 4
    assert not issues.counts


def test_chunk_first_line_counts_blank_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read, "READ_BYTES", 50)
    data = b"".join(b'{"i":%d}\n\n\n' % i for i in range(100))
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)
    chunks = list(iter_chunks(source_of(path), IssueLog(), chunk_bytes=100))
    assert len(chunks) > 3
    check_chunks(chunks, data, str(path))
    for chunk in chunks:
        for offset, text in enumerate(chunk.data.split(b"\n")[:-1]):
            if text:
                i = int(text[5:-1])
                assert chunk.first_line + offset == 3 * i + 1


def test_line_longer_than_a_chunk_stays_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read, "READ_BYTES", 100)
    long_line = b'{"request_id":"r","text":"' + b"x" * 5000 + b'"}\n'
    data = b'{"a":1}\n' + long_line + b'{"b":2}\n'
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)
    chunks = list(iter_chunks(source_of(path), IssueLog(), chunk_bytes=300))
    check_chunks(chunks, data, str(path))
    assert any(long_line in c.data for c in chunks)


def test_last_line_without_newline_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read, "READ_BYTES", 64)
    data = text_lines(50).rstrip(b"\n")
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)
    chunks = list(iter_chunks(source_of(path), IssueLog(), chunk_bytes=200))
    check_chunks(chunks, data, str(path))


def test_empty_file_gives_no_chunks(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"")
    assert list(iter_chunks(source_of(path), IssueLog(), chunk_bytes=10)) == []


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_chunks_of_compressed_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.setattr(read, "READ_BYTES", 333)
    data = text_lines(3000)
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(gzip.compress(data) if kind == "gzip" else zstd_compress(data))
    issues = IssueLog()
    chunks = list(iter_chunks(source_of(path), issues, chunk_bytes=2048))
    assert len(chunks) > 1
    check_chunks(chunks, data, str(path))
    assert not issues.counts


@pytest.mark.parametrize("flip", [-8, -5, -4, -1])  # a CRC byte, another, an ISIZE byte, the last
def test_a_gzip_whose_check_fails_keeps_every_byte(tmp_path: Path, flip: int) -> None:
    """zlib's gzip mode raises on a bad trailer and drops what the call inflated (megabytes): the members are
    inflated raw and their CRC and length checked here, so all 20,000 lines are read, and the damage said."""
    lines = text_lines(20_000)
    damaged = bytearray(gzip.compress(lines))
    damaged[flip] ^= 0xFF
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(bytes(damaged))
    got, issues = read_all(path)
    assert got == lines
    assert dict(issues.counts) == {"corrupt-archive": 1}
    assert "gzip member 1 fails its check" in issues.examples["corrupt-archive"][0].message


def test_gzip_headers_with_every_optional_field(tmp_path: Path) -> None:
    """FEXTRA, FNAME, FCOMMENT and FHCRC (RFC 1952) before the data; then a second, plain member."""
    body = text_lines(100)
    member = gzip.compress(body)
    extra = (
        b"\x1f\x8b\x08"
        + bytes([4 | 8 | 16 | 2])
        + member[4:10]
        + b"\x03\x00abc"
        + b"name.jsonl\x00"
        + b"note\x00"
        + b"\x00\x00"
    )
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(extra + member[10:] + gzip.compress(body))
    got, issues = read_all(path)
    assert got == body + body
    assert not issues.counts


def test_a_zstd_frame_whose_checksum_fails_at_the_end_keeps_every_byte(tmp_path: Path) -> None:
    lines = text_lines(20_000)
    damaged = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(lines))
    damaged[-1] ^= 0xFF
    path = tmp_path / "x.jsonl.zst"
    path.write_bytes(bytes(damaged))
    got, issues = read_all(path)
    assert got == lines  # the checksum, at the file's end, is fed alone: every byte was out before it failed
    assert dict(issues.counts) == {"corrupt-archive": 1}


def test_a_small_zstd_file_whose_checksum_fails_keeps_its_lines(tmp_path: Path) -> None:
    lines = text_lines(20)
    damaged = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(lines))
    assert len(damaged) < read.ZSTD_FEED
    damaged[-1] ^= 0xFF
    path = tmp_path / "small.jsonl.zst"
    path.write_bytes(bytes(damaged))
    got, issues = read_all(path)
    assert got == lines
    assert dict(issues.counts) == {"corrupt-archive": 1}


# -- hostile input: over-long lines, bombs, millions of lines ---------------------------------------------


def lines_of(chunks: list[Chunk]) -> dict[int, bytes]:
    """line number -> text of every line the chunks hold."""
    found = {}
    for chunk in chunks:
        for offset, text in enumerate(chunk.data.split(b"\n")[:-1]):
            found[chunk.first_line + offset] = text
    return found


@pytest.mark.parametrize(("read_bytes", "chunk_bytes"), [(64, 64), (100, 300), (4096, 10_000), (1 << 20, 1 << 20)])
@pytest.mark.parametrize("where", ["first", "middle", "last", "last-without-newline"])
def test_a_line_over_the_cap_is_left_out_and_recorded_with_its_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_bytes: int, chunk_bytes: int, where: str
) -> None:
    monkeypatch.setattr(read, "READ_BYTES", read_bytes)
    cap = 2000
    lines = [b'{"i":%d}' % i for i in range(40)]
    lines.insert(10, b'{"just":"' + b"y" * (cap - 11) + b'"}')  # exactly the cap: kept
    at = {"first": 0, "middle": 20, "last": 41, "last-without-newline": 41}[where]
    lines.insert(at, b'{"long":"' + b"x" * 5000 + b'"}')
    data = b"\n".join(lines) + (b"" if where == "last-without-newline" else b"\n")
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)
    issues = IssueLog()
    found = lines_of(list(iter_chunks(source_of(path), issues, chunk_bytes=chunk_bytes, max_line_bytes=cap)))
    expected = dict(enumerate(lines, start=1))
    long_number = at + 1
    assert len(expected.pop(long_number)) > cap
    assert found == expected
    assert issues.counts == {"line-too-long": 1}
    [example] = issues.examples["line-too-long"]
    assert example.line == long_number
    assert "5,011 bytes" in example.message


def test_lines_over_the_cap_inside_one_large_block_are_each_left_out() -> None:
    """Decompressed blocks can hold several over-long lines: each is found, the lines between are kept."""
    cap = 1000
    data = b"".join([b'{"a":1}\n', b"z" * 3000 + b"\n", b'{"b":2}\n', b"q" * 1001 + b"\n", b"w" * 1000 + b"\n"])
    issues = IssueLog()
    chunks = list(read._whole_lines(Source("s"), issues, data, 10, data.count(b"\n"), cap))
    assert lines_of(chunks) == {10: b'{"a":1}', 12: b'{"b":2}', 14: b"w" * 1000}
    assert sorted(e.line for e in issues.examples["line-too-long"]) == [11, 13]


def test_a_chunk_of_millions_of_lines_is_cut_by_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read, "CHUNK_LINES", 1000)
    data = b"\n" * 2500 + b'{"x":1}\n' + b"\n" * 2499
    chunks = list(read._whole_lines(Source("s"), IssueLog(), data, 1, data.count(b"\n"), 1 << 20))
    assert len(chunks) >= 5
    assert all(c.line_count <= 1100 for c in chunks)
    assert lines_of(chunks)[2501] == b'{"x":1}'
    assert b"".join(c.data for c in chunks) == data


def test_a_gzip_of_zeros_is_inflated_a_bounded_piece_at_a_time(tmp_path: Path) -> None:
    """64 MB of zeros in 64 KB of gzip: no piece larger than one read, and every byte accounted for."""
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(b"\0" * (64 << 20), compresslevel=9))
    assert path.stat().st_size < 100_000
    issues = IssueLog()
    with path.open("rb") as stream:
        sizes = [len(piece) for piece in read._decompressed(stream, "gzip", b"", source_of(path), issues)]
    assert max(sizes) <= read.READ_BYTES
    assert sum(sizes) == 64 << 20
    assert not issues.counts
