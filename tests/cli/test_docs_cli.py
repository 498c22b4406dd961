"""`aiobs docs`: the pages the help points to, readable where aiobs is installed (they ship in the wheel)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aiobs.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_docs_lists_every_page_with_its_title() -> None:
    result = runner.invoke(app, ["docs"])
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert listed == sorted(path.stem for path in (ROOT / "docs").glob("*.md"))
    assert "ci            aiobs in CI and in nightly jobs" in result.stdout
    narrow = runner.invoke(app, ["docs"], env={"COLUMNS": "80"})
    assert max(len(line) for line in narrow.stdout.splitlines()) == 80  # a long title is cut, with …


def test_a_page_is_printed_as_it_is_and_a_typo_is_one_sentence() -> None:
    result = runner.invoke(app, ["docs", "docs/quality.md"])
    assert result.exit_code == 0
    assert result.stdout == (ROOT / "docs" / "quality.md").read_text(encoding="utf-8")
    typo = runner.invoke(app, ["docs", "qualty"])
    assert (typo.exit_code, typo.stderr) == (
        2,
        "aiobs: no documentation page 'qualty'; did you mean quality? (aiobs docs lists them)\n",
    )


def test_every_page_is_in_the_wheel_list() -> None:
    """A new page in docs/ must be named in pyproject's force-include, or the wheel would lack it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    pages = {f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md")}
    assert {source for source in shipped if source.startswith("docs/")} == pages
    assert all(shipped[page] == f"aiobs/{page}" for page in pages)


def test_the_installed_wheel_prints_its_own_pages(tmp_path: Path) -> None:
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)]
    built = subprocess.run(build, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("aiobs_cli-*.whl")
    assert "aiobs/docs/ci.md" in zipfile.ZipFile(wheel).namelist()
    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)]
    assert subprocess.run(install, capture_output=True, text=True).returncode == 0
    code = "import sys; from aiobs.cli import main; sys.argv = ['aiobs', 'docs', 'ci']; main()"
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout == (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    where = "import aiobs.cli.docs as d; print(d.docs_folder())"
    shown = subprocess.run([sys.executable, "-c", where], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert Path(shown.stdout.strip()) == site / "aiobs" / "docs"


def test_no_pages_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("aiobs.cli.docs.docs_folder", lambda: tmp_path)
    result = runner.invoke(app, ["docs"])
    assert (result.exit_code, result.stderr) == (
        2,
        f"aiobs: no documentation pages in {tmp_path}: the installation is incomplete\n",
    )
