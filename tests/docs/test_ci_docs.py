"""docs/ci.md and its examples stay true: every metric documented, the workflow and cron script run."""

from __future__ import annotations

import re
import shlex
import shutil
import string
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.gates import expressions
from aiobs.gates.catalogue import FIELDS, GROUP_KEYS, METRICS

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
WORKFLOW = ROOT / "docs" / "examples" / "github-actions.yml"
NIGHTLY = ROOT / "docs" / "examples" / "aiobs-nightly.sh"
ENV = {"COLUMNS": "160", "GITHUB_STEP_SUMMARY": None}

runner = CliRunner()


def run_aiobs(line: str, variables: dict[str, str]) -> int:
    """One `aiobs ...` command line of an example, its shell variables filled in, through the CLI app."""
    words = shlex.split(string.Template(line).substitute(variables))
    assert words[0] == "aiobs"
    result = runner.invoke(app, words[1:], env=ENV)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code


def test_every_metric_field_and_key_is_documented() -> None:
    for name, spec in METRICS.items():
        shown = f"`{name}(" if spec.argument else f"`{name}`"
        assert shown in DOC, name
    assert "`pNN(FIELD)`" in DOC
    for field in FIELDS:
        assert f"`{field}`" in DOC, field
    for key in GROUP_KEYS:
        assert f"`{key}`" in DOC, key


def test_the_grammar_in_the_doc_is_the_parser_s() -> None:
    source = expressions.__doc__ or ""
    for rule in ("slo", "gate", "metric", "arg", "threshold", "value"):
        in_code = re.search(rf"^\s*{rule}\s+:=\s*(.+?)\s*$", source, flags=re.MULTILINE)
        in_doc = re.search(rf"^{rule}\s+:=\s*(.+?)\s*$", DOC, flags=re.MULTILINE)
        assert in_code and in_doc, rule
        assert in_doc.group(1).split("  ")[0] == in_code.group(1).split("  ")[0], rule


def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def test_the_workflow_is_well_formed() -> None:
    data = workflow()
    assert set(data["on"]) == {"pull_request", "push"}
    steps = data["jobs"]["gate"]["steps"]
    for step in steps:
        assert ("uses" in step) != ("run" in step), step
        if "uses" in step:
            assert re.fullmatch(r"[\w-]+/[\w/-]+@v\d+", step["uses"]), step["uses"]
        if "if" in step:
            events = re.findall(r"github\.event_name == '(\w+)'", step["if"])
            assert events and set(events) <= set(data["on"]), step["if"]
    assert set(data["env"]) == {"AIOBS_WHEEL", "AIOBS_LOGS", "AIOBS_BASELINE"}
    assert data["env"]["AIOBS_WHEEL"].startswith("tools/aiobs_cli-")  # this project's wheel, not `aiobs` from the index


def aiobs_steps(event: str) -> list[str]:
    lines = []
    for step in workflow()["jobs"]["gate"]["steps"]:
        condition = step.get("if", "")
        if "run" in step and step["run"].startswith("aiobs ") and (not condition or f"'{event}'" in condition):
            lines.append(step["run"].strip())
    return lines


def test_the_workflow_commands_run_on_the_sample_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    variables = {"AIOBS_LOGS": str(ROOT / "sample_logs"), "AIOBS_BASELINE": str(tmp_path / "baseline.json")}
    save = aiobs_steps("push")
    gate = aiobs_steps("pull_request")
    assert len(save) == 1 and "summarize" in save[0]
    assert len(gate) == 1 and "check" in gate[0]
    assert run_aiobs(save[0], variables) == 0
    assert (tmp_path / "baseline.json").is_file()
    monkeypatch.chdir(tmp_path)
    assert run_aiobs(gate[0], variables) == 0  # the same logs against themselves: nothing regressed
    assert (tmp_path / "aiobs-junit.xml").is_file()


def test_the_nightly_script_runs_on_the_sample_logs(tmp_path: Path) -> None:
    script = NIGHTLY.read_text(encoding="utf-8")
    if shutil.which("bash"):
        assert subprocess.run(["bash", "-n", str(NIGHTLY)], check=False).returncode == 0
    variables = {
        "LOGS": str(ROOT / "sample_logs"),
        "STORE": str(tmp_path / "history"),
        "REPORTS": str(tmp_path / "reports"),
        "DAY": "2026-11-28",
        "NEXT": "2026-11-29",
    }
    (tmp_path / "reports").mkdir()
    lines = [line for line in script.splitlines() if line.startswith("aiobs ")]
    assert [line.split()[1] for line in lines] == ["summarize", "history", "check"]
    codes = [run_aiobs(line, variables) for line in lines]
    assert codes[:2] == [0, 0]  # the check's verdict depends on the night: 0 or 1 (run_aiobs allows both)
    assert (tmp_path / "reports" / "summary-2026-11-28.md").is_file()
    assert (tmp_path / "reports" / "slo-2026-11-28.xml").is_file()
    store_days = sorted(p.name for p in (tmp_path / "history" / "days").iterdir())
    assert store_days == ["2026-11-28.parquet"]


def test_the_cron_line_in_the_doc_matches_the_script() -> None:
    in_doc = re.search(r"^15 2 \* \* \*.*aiobs-nightly\.sh", DOC, flags=re.MULTILINE)
    assert in_doc is not None
    assert "AIOBS_LOGS=" in in_doc.group() and "AIOBS_STORE=" in in_doc.group()
    script = NIGHTLY.read_text(encoding="utf-8")
    for variable in ("AIOBS_LOGS", "AIOBS_STORE"):
        assert f"${{{variable}:-" in script


@pytest.mark.parametrize("path", ["examples/github-actions.yml", "examples/aiobs-nightly.sh", "json-output.md"])
def test_the_doc_links_resolve(path: str) -> None:
    assert f"({path})" in DOC
    assert (ROOT / "docs" / path).is_file()


def readme_block_after(marker: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(marker)
    return readme[readme.index("```\n", start) + 4 : readme.index("\n```", readme.index("```\n", start) + 4)]


def test_the_readme_check_output_is_what_aiobs_prints_today(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Run from a folder where the README's relative paths (sample_logs/, baseline.json, nightly-store/) hold.
    (tmp_path / "sample_logs").symlink_to(ROOT / "sample_logs", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    env = {**ENV, "COLUMNS": "100"}
    slos = ["--slo", "p95(latency_ms) < 15s", "--slo", "error_rate < 2% by route", "--slo", "cost_per_1k < $8"]
    first = runner.invoke(app, ["check", "sample_logs/", *slos, "--slo", "rate(refusal) < 2%"], env=env)
    assert first.exit_code == 1
    saved = runner.invoke(app, ["summarize", "sample_logs/chatbot.jsonl", "--format", "json", "-o", "baseline.json"])
    assert saved.exit_code == 0
    gates = ["--max-regression", "p95=10%", "--max-regression", "cost_per_1k=10%"]
    second = runner.invoke(app, ["check", "sample_logs/rag/", "--baseline", "baseline.json", *gates], env=env)
    assert second.exit_code == 1
    assert runner.invoke(app, ["summarize", "sample_logs/", "--history", "nightly-store/"], env=env).exit_code == 0
    trend = runner.invoke(app, ["history", "nightly-store/"], env=env)
    for marker, result in (
        ("Real output, `aiobs check sample_logs/", first),
        ("`aiobs check sample_logs/rag/ --baseline", second),
        ("From `aiobs history", trend),
    ):
        # A run row names the run and when it was recorded: different on every run, so not compared.
        def lines(text: str) -> list[str]:
            return [
                line.rstrip() for line in text.strip("\n").splitlines() if not re.match(r"\| [0-9a-f]{16} \|", line)
            ]

        assert lines(readme_block_after(marker)) == lines(result.output), marker
