"""`aiobs check` and `aiobs history` end to end through the typer app: exit codes, outputs, config."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import orjson
import pytest
import xmlschema
from typer.testing import CliRunner, Result

from aiobs.cli import app
from aiobs.cli.common import ExitCode

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_logs"
CHATBOT = SAMPLE / "chatbot.jsonl"
ENV = {
    "COLUMNS": "160",
    "FORCE_COLOR": None,
    "TTY_COMPATIBLE": None,
    "TTY_INTERACTIVE": None,
    "GITHUB_STEP_SUMMARY": None,
}
SCHEMA = xmlschema.XMLSchema(ROOT / "tests" / "fixtures" / "junit" / "junit.xsd")

runner = CliRunner()


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return runner.invoke(app, list(args), env={**ENV, **(env or {})})


@pytest.fixture(scope="module")
def saved_summary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("baseline") / "baseline.json"
    result = invoke("summarize", str(SAMPLE), "--format", "json", "--output", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_exit_0_when_every_slo_holds() -> None:
    result = invoke("check", str(SAMPLE), "--slo", "error_rate < 5%", "--slo", "p95(latency_ms) < 20s")
    assert result.exit_code == ExitCode.OK, result.output
    assert "passed: 0 of 2 SLO result(s) breached" in result.output
    assert "13,218 ms" in result.output  # p95 of the sample logs, as `summarize` shows it


def test_exit_1_when_one_is_breached() -> None:
    result = invoke("check", str(SAMPLE), "--slo", "error_rate < 1%", "--slo", "p95(latency_ms) < 20s")
    assert result.exit_code == ExitCode.SLO_BREACHED == 1
    assert "FAILED: 1 of 2 SLO result(s) breached" in result.output
    assert "BREACHED" in result.output and "1.73%" in result.output


def test_a_bad_expression_is_exit_2_with_a_caret() -> None:
    result = invoke("check", str(SAMPLE), "--slo", "p95(latency_ms) < 3000x")
    assert result.exit_code == ExitCode.USAGE
    assert result.output == (
        "aiobs: invalid SLO (column 19): unexpected unit 'x' (p95(latency_ms) takes ms, s or m)\n"
        "    p95(latency_ms) < 3000x\n"
        "                      ^^^^^\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([str(SAMPLE)], "nothing to check: give --slo, an [slo] section in aiobs.toml, or --baseline"),
        ([str(SAMPLE), "--slo", "p95 < 1", "--max-regression", "p95=10%"], "--max-regression needs --baseline"),
        ([str(SAMPLE), "--baseline", str(SAMPLE), "--max-regression", "p95=10"], "invalid regression gate (column 5)"),
        (["no/such/path", "--slo", "p95 < 1"], "no such file or directory: no/such/path"),
        ([str(SAMPLE), "--slo", "p95 < 1", "--confidence", "1.5"], "--confidence must be from 0.5 to 0.999"),
        ([str(SAMPLE), "--slo", "p95 < 1", "--baseline", "missing.json"], "no such file or directory: missing.json"),
        ([str(SAMPLE), "--slo", "p95 < 1", "--since", "2030-01-01"], "between --since and --until: nothing to check"),
    ],
)
def test_usage_and_input_errors_are_exit_2(args: list[str], message: str) -> None:
    result = invoke("check", *args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.output.startswith("aiobs: ")
    assert message in result.output
    assert "Traceback" not in result.output


def test_no_data_passes_unless_strict() -> None:
    args = ["check", str(SAMPLE), "--slo", "rate(refusal) < 2%", "--slo", "error_rate < 5%"]
    relaxed = invoke(*args)
    assert relaxed.exit_code == ExitCode.OK
    assert "no data" in relaxed.output and "no flag_refusal column" in relaxed.output
    strict = invoke(*args, "--strict")
    assert strict.exit_code == ExitCode.SLO_BREACHED
    assert "1 check(s) without data (--strict)" in strict.output


def test_step_summary_is_appended_and_junit_written(tmp_path: Path) -> None:
    summary_file = tmp_path / "summary.md"
    summary_file.write_text("# earlier step\n")
    junit = tmp_path / "junit.xml"
    result = invoke(
        "check",
        str(SAMPLE),
        "--slo",
        "error_rate < 1% by route",
        "--junit",
        str(junit),
        env={"GITHUB_STEP_SUMMARY": str(summary_file)},
    )
    assert result.exit_code == 1
    text = summary_file.read_text()
    assert text.startswith("# earlier step\n## aiobs check: FAILED")
    assert "| ❌ breached | error\\_rate &lt; 1% by route | route=/rag/answer |" in text
    SCHEMA.validate(str(junit))
    cases = ET.parse(junit).getroot().findall("./testsuite/testcase")
    assert len(cases) == 5
    assert sum(c.find("failure") is not None for c in cases) == 5


def test_an_unwritable_step_summary_is_a_warning(tmp_path: Path) -> None:
    result = invoke(
        "check", str(CHATBOT), "--slo", "error_rate < 5%", env={"GITHUB_STEP_SUMMARY": str(tmp_path / "no" / "f.md")}
    )
    assert result.exit_code == 0
    assert "warning: cannot append to $GITHUB_STEP_SUMMARY" in result.output


def test_slos_and_gates_from_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "aiobs.toml").write_text(
        '[slo]\nlatency = "p95(latency_ms) < 20s"\nerrors = "error_rate < 1%"\nmax_regression = ["error_rate=1pp"]\n'
    )
    monkeypatch.chdir(tmp_path)
    result = invoke("check", str(SAMPLE))
    assert result.exit_code == 1
    assert "latency: p95(latency_ms) < 20s" in result.output
    assert "errors: error_rate < 1%" in result.output
    with_cli = invoke("check", str(SAMPLE), "--slo", "requests > 100")
    assert "requests > 100" in with_cli.output


def test_a_bad_expression_in_the_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "aiobs.toml"
    config.write_text('[slo]\nlatency = "p95(latency_ms) <"\n')
    result = invoke("check", str(SAMPLE), "--config", str(config))
    assert result.exit_code == ExitCode.USAGE
    assert f"aiobs: {config}: slo.latency: invalid SLO (column 18): expected a number, found the end" in result.output
    config.write_text("[slo]\nlatency = 3000\n")
    assert "slo.latency must be an expression in quotes" in invoke("check", str(SAMPLE), "--config", str(config)).output


def test_against_a_saved_summary_nothing_changed(saved_summary: Path) -> None:
    doc = orjson.loads(saved_summary.read_bytes())
    assert doc["schema"] == "aiobs.summary/1"
    assert {p["dimension"] for p in doc["profiles"]} == {"overall", "model", "route", "stage"}
    result = invoke("check", str(SAMPLE), "--baseline", str(saved_summary), "--max-regression", "p95=10%", "--all")
    assert result.exit_code == 0, result.output
    assert "0 regression(s)" in result.output
    assert "+0.0%" in result.output
    assert f"Baseline: {saved_summary} (saved summary), 2,600 requests" in result.output.replace("\n", " ")


def test_a_regression_against_baseline_logs_fails(tmp_path: Path) -> None:
    # The chatbot alone against the RAG logs: its cost per request is far lower, its p95 similar.
    result = invoke(
        "check",
        str(CHATBOT),
        "--baseline",
        str(SAMPLE / "rag"),
        "--max-regression",
        "cost_per_1k=10%",
        "--max-regression",
        "error_rate=1pp",
        "--junit",
        str(tmp_path / "j.xml"),
    )
    assert result.exit_code == 0, result.output
    assert "improved" in result.output
    reverse = invoke("check", str(SAMPLE / "rag"), "--baseline", str(CHATBOT), "--max-regression", "cost_per_1k=10%")
    assert reverse.exit_code == 1
    assert "REGRESSED" in reverse.output
    SCHEMA.validate(str(tmp_path / "j.xml"))


def test_history_from_check_and_summarize_then_listed_and_pruned(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert invoke("summarize", str(SAMPLE), "--history", str(store)).exit_code == 0
    checked = invoke("check", str(SAMPLE), "--slo", "error_rate < 5%", "--history", str(store))
    assert checked.exit_code == 0
    assert "aiobs: recorded run" in checked.output and "(35 hour bucket(s))" in checked.output
    listed = invoke("history", str(store))
    assert listed.exit_code == 0, listed.output
    assert "2 day(s), 35 hour bucket(s), 2,600 requests, 1 run(s)" in listed.output
    assert "No anomalies in the last 7 day(s)" in listed.output
    as_json = orjson.loads(invoke("history", str(store), "--format", "json", "--by", "model").output)
    assert {r["key"] for r in as_json["trends"]["rows"]} >= {"gpt-4o", "claude-sonnet-4-5"}
    assert sum(r["requests"] for r in as_json["trends"]["rows"]) == 2600
    pruned = invoke("history", str(store), "--keep-days", "1")  # today is after the sample days
    assert "Pruned 2 day(s): 2026-11-28, 2026-11-29" in pruned.output
    assert "The store is empty" in pruned.output


def test_history_errors(tmp_path: Path) -> None:
    result = invoke("history", str(tmp_path / "nothing"))
    assert result.exit_code == ExitCode.USAGE
    assert "is not an aiobs history store" in result.output
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    refused = invoke("summarize", str(CHATBOT), "--history", str(busy))
    assert refused.exit_code == ExitCode.USAGE
    assert "exists and is not an aiobs history store" in refused.output
    assert invoke("history", str(tmp_path), "--by", "colour").exit_code == ExitCode.USAGE
    store = tmp_path / "store"
    assert invoke("summarize", str(CHATBOT), "--history", str(store)).exit_code == 0
    for every in ("xyz", "0h", "1"):
        bad = invoke("history", str(store), "--every", every)
        assert bad.exit_code == ExitCode.USAGE, every
        assert f"invalid --every '{every}'" in bad.output


def test_a_saved_summary_and_logs_together_are_refused(saved_summary: Path) -> None:
    result = invoke("check", str(CHATBOT), "--baseline", str(saved_summary), "--baseline", str(CHATBOT))
    assert result.exit_code == ExitCode.USAGE
    assert "--baseline takes logs or one saved summary, not both" in result.output


def test_a_bug_is_exit_3_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("aiobs.cli.check.check", broken)
    result = invoke("check", str(CHATBOT), "--slo", "p95 < 1", env={"AIOBS_TRACEBACK": None})
    assert result.exit_code == ExitCode.INTERNAL == 3
    assert "internal error (RuntimeError: boom)" in result.output
    assert "Traceback" not in result.output
