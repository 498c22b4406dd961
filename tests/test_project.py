"""The project's promises about itself: README commands work, CI runs them, docs match the code, lint is clean."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.schema import EVENT_FIELDS, REQUEST_FIELDS, markdown_table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)


def test_readme_has_exactly_the_two_setup_commands() -> None:
    start, tests = _sh_blocks()[:2]
    assert start.strip().endswith("aiobs summarize sample_logs/")
    assert tests.strip() == "pip install -e '.[test]' && pytest"


def test_ci_runs_the_readme_test_command_in_a_fresh_venv() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = _sh_blocks()[1].strip()
    assert test_command in ci
    assert "python3 -m venv" in ci
    assert "set -euo pipefail" in ci


def test_the_distribution_name_is_ours_and_the_command_is_aiobs() -> None:
    """`aiobs` on the package index is an unrelated project (an OpenTelemetry SDK without this command)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "aiobs-cli"
    assert project["scripts"] == {"aiobs": "aiobs.entry:main"}


_INSTALLS_THE_OTHER_AIOBS = re.compile(r"(pip|pipx|uv pip|uv tool) install\s+(-U\s+|--upgrade\s+)?[\"']?aiobs(?![-\w])")


def test_no_doc_or_example_installs_the_other_aiobs() -> None:
    texts = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "docs" / "examples").iterdir()]
    offenders = [str(p.relative_to(ROOT)) for p in texts if _INSTALLS_THE_OTHER_AIOBS.search(p.read_text("utf-8"))]
    assert offenders == []
    assert _INSTALLS_THE_OTHER_AIOBS.search("run: pip install aiobs\n")  # the pattern catches what it is for
    assert _INSTALLS_THE_OTHER_AIOBS.search("pip install -U 'aiobs'")
    assert not _INSTALLS_THE_OTHER_AIOBS.search('pip install "aiobs-cli @ git+https://example.org/aiobs"')


def test_readme_main_command_runs_on_sample_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["summarize", "sample_logs/"])
    assert result.exit_code == 0, result.output
    assert "2,600 requests" in result.output
    assert "Input quality" in result.output


def test_readme_output_is_what_aiobs_prints_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pasted terminal output must not go stale (first table rows compared)."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "100")
    result = CliRunner().invoke(app, ["summarize", "sample_logs/", "--by", "model"], terminal_width=100)
    assert result.exit_code == 0
    for line in result.output.splitlines()[:20]:
        if "│" in line:
            assert line.rstrip() in README, line


def test_console_script_entry_point() -> None:
    exe = shutil.which("aiobs", path=str(Path(sys.executable).parent))
    assert exe is not None, "the aiobs console script is not installed"
    result = subprocess.run([exe, "summarize", str(ROOT / "sample_logs"), "-f", "json"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert '"schema": "aiobs.summary/1"' in result.stdout


def test_schema_doc_matches_schema_module() -> None:
    doc = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert markdown_table(EVENT_FIELDS) in doc
    assert markdown_table(REQUEST_FIELDS) in doc


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]])
def test_ruff_is_clean(args: list[str]) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    paths = ["src", "tests", "bench", "examples"]
    result = subprocess.run([ruff, *args, *paths], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    """The type checker, as [tool.mypy] in pyproject.toml configures it (which files, which checks)."""
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed")
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["summarize", "sample_logs/", "--format", "xml"],
            "aiobs: Invalid value for '--format' / '-f': 'xml' is not one of",
        ),
        (["nosuch"], "aiobs: No such command 'nosuch'. (see aiobs --help)"),
        (["summarize"], "aiobs: Missing argument 'PATHS'. (see aiobs summarize --help)"),
        (
            ["summarize", "sample_logs/", "--by"],
            "aiobs: Option '--by' requires an argument. (see aiobs summarize --help)",
        ),
        (["check", "sample_logs/", "--slo"], "aiobs: Option '--slo' requires an argument. (see aiobs check --help)"),
    ],
)
def test_console_script_option_errors_are_one_aiobs_sentence(args: list[str], message: str) -> None:
    exe = shutil.which("aiobs", path=str(Path(sys.executable).parent))
    assert exe is not None
    result = subprocess.run([exe, *args], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
