"""expand_inputs: files, folders, globs, stdin, de-duplication and one-sentence errors."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from aiobs.errors import InputError, UsageError
from aiobs.sources.base import SkippedFile
from aiobs.sources.paths import STDIN, Source, expand_inputs, is_log_file

WriteJsonl = Callable[[Path, Iterable[Any]], Path]
ROW = {"request_id": "r", "event": "llm", "ts": "2026-11-28T10:00:00Z"}


def names(sources: list[Source]) -> list[str]:
    return [s.name for s in sources]


def resolved(sources: list[Source]) -> list[Path]:
    paths = [s.path for s in sources]
    assert all(p is not None for p in paths)
    return [p.resolve() for p in paths if p is not None]


@pytest.fixture
def tree(tmp_path: Path, write_jsonl: WriteJsonl) -> Path:
    """logs/ with log files at several depths, plus files that are not logs."""
    root = tmp_path / "logs"
    for rel in (
        "a.jsonl",
        "b.ndjson",
        "c.json",
        "d.log",
        "sub/e.jsonl.gz",
        "sub/deeper/f.ndjson.zst",
        "sub/deeper/g.LOG",
    ):
        write_jsonl(root / rel, [ROW])
    for rel in ("notes.txt", "data.csv", "README.md", "sub/archive.gz", "sub/deeper/image.png", "noext"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"not a log\n")
    return root


def test_single_file_is_one_source_with_path_and_size(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [ROW, ROW])
    [source] = expand_inputs([str(path)])
    assert source.name == str(path)
    assert source.path == path
    assert source.size == path.stat().st_size


def test_a_file_given_explicitly_is_read_whatever_its_suffix(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_bytes(b"{}\n")
    assert resolved(expand_inputs([str(path)])) == [path.resolve()]


def test_folder_is_recursive_and_keeps_only_log_suffixes(tree: Path) -> None:
    sources = expand_inputs([str(tree)])
    read = [s for s in sources if not isinstance(s, SkippedFile)]
    got = sorted(p.relative_to(tree.resolve()).as_posix() for p in resolved(read))
    # The rest are listed as skipped, so the input-quality section names them, and never read.
    skipped = sorted(Path(s.name).relative_to(tree).as_posix() for s in sources if isinstance(s, SkippedFile))
    assert skipped == ["README.md", "data.csv", "noext", "notes.txt", "sub/archive.gz", "sub/deeper/image.png"]
    assert got == sorted(
        [
            "a.jsonl",
            "b.ndjson",
            "c.json",
            "d.log",
            "sub/e.jsonl.gz",
            "sub/deeper/f.ndjson.zst",
            "sub/deeper/g.LOG",
        ]
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("x.jsonl", True),
        ("x.ndjson", True),
        ("x.json", True),
        ("x.log", True),
        ("x.JSONL", True),
        ("x.jsonl.gz", True),
        ("x.jsonl.gzip", True),
        ("x.log.zst", True),
        ("x.ndjson.zstd", True),
        ("x.txt", False),
        ("x.gz", False),
        ("x.csv.gz", False),
        ("x", False),
        ("x.jsonl.bak", False),
    ],
)
def test_is_log_file(name: str, expected: bool) -> None:
    assert is_log_file(Path(name)) is expected


def test_folder_without_log_files_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("hi")
    with pytest.raises(InputError) as info:
        expand_inputs([str(tmp_path / "empty")])
    assert str(tmp_path / "empty") in str(info.value)


def test_glob_with_double_star_matches_at_every_depth(tree: Path) -> None:
    got = resolved(expand_inputs([f"{tree}/**/*.jsonl"]))
    assert sorted(p.name for p in got) == ["a.jsonl"]  # e.jsonl.gz does not end in .jsonl
    got = resolved(expand_inputs([f"{tree}/**/*.ndjson*"]))
    assert sorted(p.name for p in got) == ["b.ndjson", "f.ndjson.zst"]
    got = resolved(expand_inputs([f"{tree}/**/*.gz"]))
    assert sorted(p.name for p in got) == ["archive.gz", "e.jsonl.gz"]  # a glob keeps what it names


def test_glob_single_star_does_not_descend(tree: Path) -> None:
    got = resolved(expand_inputs([f"{tree}/*.j*"]))
    assert sorted(p.name for p in got) == ["a.jsonl", "c.json"]


def test_glob_matching_a_folder_takes_its_log_files(tree: Path) -> None:
    sources = expand_inputs([f"{tree}/su?"])
    got = resolved([s for s in sources if not isinstance(s, SkippedFile)])
    assert sorted(p.name for p in got) == ["e.jsonl.gz", "f.ndjson.zst", "g.LOG"]
    assert sorted(Path(s.name).name for s in sources if isinstance(s, SkippedFile)) == ["archive.gz", "image.png"]


def test_relative_glob(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree.parent)
    got = expand_inputs(["logs/**/*.log"])
    assert names(got) == [str(Path("logs/d.log"))]


def test_glob_matching_nothing_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no files match"):
        expand_inputs([f"{tmp_path}/**/*.jsonl"])


def test_duplicates_across_arguments_are_dropped(tree: Path) -> None:
    a = tree / "a.jsonl"
    sources = expand_inputs([str(a), str(tree), f"{tree}/*.jsonl", str(a)])
    got = resolved(sources)
    assert len(got) == len(set(got)), names(sources)
    assert got[0] == a.resolve()  # order of first appearance is kept
    assert len([s for s in sources if not isinstance(s, SkippedFile)]) == 7
    assert len(got) == 7 + 6  # and each skipped file is named once


def test_same_file_spelled_relative_and_absolute_is_read_once(
    tmp_path: Path, write_jsonl: WriteJsonl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`aiobs summarize logs/ $PWD/logs/app.jsonl` names one file twice; it must be counted once."""
    path = write_jsonl(tmp_path / "logs" / "app.jsonl", [ROW])
    monkeypatch.chdir(tmp_path)
    sources = expand_inputs(["logs", str(path.resolve())])
    assert resolved(sources) == [path.resolve()], names(sources)


def test_stdin_dash(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [ROW])
    assert expand_inputs(["-"]) == [STDIN]
    assert STDIN.path is None and STDIN.name == "-"
    assert names(expand_inputs(["-", str(path), "-"])) == ["-", str(path)]


@pytest.mark.parametrize("spec", ["nope.jsonl", "missing/dir/", "also/missing.jsonl.gz"])
def test_missing_path_is_one_sentence_input_error(tmp_path: Path, spec: str) -> None:
    target = str(tmp_path / spec)
    with pytest.raises(InputError) as info:
        expand_inputs([target])
    message = str(info.value)
    assert target.rstrip("/") in message or target in message
    assert "\n" not in message
    assert message.count(". ") == 0  # one sentence


def test_missing_path_after_good_ones_still_fails(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [ROW])
    with pytest.raises(InputError, match="no such file or directory"):
        expand_inputs([str(path), str(tmp_path / "gone.jsonl")])


def test_no_inputs_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        expand_inputs([])


# -- links, loops, pipes and devices ------------------------------------------------------------------


@pytest.fixture
def looped(tmp_path: Path, write_jsonl: WriteJsonl) -> Path:
    """logs/a/b/x.jsonl with three links back up (loops that `glob(recursive=True)` follows for ever),
    and two links to one folder outside the tree."""
    root = tmp_path / "logs"
    write_jsonl(root / "a" / "b" / "x.jsonl", [ROW])
    for name, target in (("up", ".."), ("up2", "../.."), ("top", str(root))):
        (root / "a" / "b" / name).symlink_to(target)
    outside = tmp_path / "elsewhere"
    write_jsonl(outside / "y.jsonl", [ROW])
    (root / "a" / "today").symlink_to(outside)
    (root / "a" / "again").symlink_to(outside)
    return root


def _give_up(signum: int, frame: object) -> None:
    raise TimeoutError("expanding the inputs did not end: a link loop was followed")


@pytest.mark.parametrize("pattern", ["{root}", "{root}/**/*.jsonl", "{root}/**", "{root}/*/**/*.jsonl"])
def test_links_are_followed_once_and_loops_end(looped: Path, pattern: str) -> None:
    previous = signal.signal(signal.SIGALRM, _give_up)
    signal.alarm(20)
    try:
        found = expand_inputs([pattern.format(root=looped)])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert sorted(p.name for p in resolved(found)) == ["x.jsonl", "y.jsonl"]


def test_a_glob_matches_as_glob_does(tree: Path) -> None:
    assert sorted(p.name for p in resolved(expand_inputs([f"{tree}/sub/*/*.ndjson.zst"]))) == ["f.ndjson.zst"]
    assert sorted(p.name for p in resolved(expand_inputs([f"{tree}/*.js*"]))) == ["a.jsonl", "c.json"]


def test_hidden_folders_are_skipped_by_a_glob_unless_named(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    write_jsonl(tmp_path / ".cache" / "x.jsonl", [ROW])
    write_jsonl(tmp_path / "y.jsonl", [ROW])
    assert names(expand_inputs([f"{tmp_path}/**/*.jsonl"])) == [str(tmp_path / "y.jsonl")]
    assert names(expand_inputs([f"{tmp_path}/.*/*.jsonl"])) == [str(tmp_path / ".cache" / "x.jsonl")]


def test_a_named_pipe_is_read_as_a_stream(tmp_path: Path) -> None:
    pipe = tmp_path / "fifo"
    os.mkfifo(pipe)
    [source] = expand_inputs([str(pipe)])
    assert source.path == pipe
    assert source.size is None


def test_a_character_device_is_read_as_a_stream() -> None:
    [source] = expand_inputs(["/dev/null"])
    assert source.name == "/dev/null"


def test_a_socket_is_refused_in_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(InputError, match=r"^cannot read .*/s: it is a socket; pass log files"):
            expand_inputs([str(path)])


@pytest.mark.parametrize("spec", ["", "  "])
def test_an_empty_path_is_refused_not_read_as_the_current_folder(spec: str) -> None:
    with pytest.raises(UsageError, match="an input path is empty"):
        expand_inputs([spec])


def test_a_file_named_after_its_folder_is_read_not_skipped(tree: Path) -> None:
    for order in ([str(tree), str(tree / "notes.txt")], [str(tree / "notes.txt"), str(tree)]):
        sources = expand_inputs(order)
        [notes] = [s for s in sources if s.name.endswith("notes.txt")]
        assert not isinstance(notes, SkippedFile), order
