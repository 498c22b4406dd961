"""What every command shares: atomic writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from aiobs.cli.common import write_atomically
from aiobs.errors import AiobsError


def test_writes_replace_a_file_whole_and_keep_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    write_atomically(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left behind


def test_a_new_file_gets_the_usual_mode(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        write_atomically(tmp_path / "new.md", "x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.md").stat().st_mode) == 0o644


def test_a_device_is_written_to_not_replaced() -> None:
    write_atomically(Path(os.devnull), "into the void")
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)  # renaming over /dev/null would make it a file


def test_a_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AiobsError, match="does not exist"):
        write_atomically(tmp_path / "nope" / "out.json", "x")
