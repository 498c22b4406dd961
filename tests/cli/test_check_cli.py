"""`aiobs check` and `aiobs history` end to end through the typer app: exit codes, outputs, config."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import polars as pl
import pytest
import xmlschema
from typer.testing import CliRunner, Result

from aiobs.cli import app
from aiobs.cli.common import ExitCode
from aiobs.sources.paths import expand_inputs
from aiobs.summary import Summary, summarize

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

T0 = datetime(2026, 11, 1, 8, tzinfo=UTC)

runner = CliRunner()


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return runner.invoke(app, list(args), env={**ENV, **(env or {})})


@pytest.fixture(scope="module")
def sample() -> Summary:
    """The sample logs read through the library: the reference the CLI output is checked against."""
    return summarize(expand_inputs([str(SAMPLE)]))


def native_log(path: Path, n: int, *, seed: int, slower: float = 1.0, tokens: int = 200) -> Path:
    """`n` requests in aiobs's native format: a gateway event and a gpt-4o call each."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        start = T0 + timedelta(seconds=30 * i)
        llm = rng.lognormvariate(7.0, 0.6) * slower
        common = {"request_id": f"{seed}-{i}", "route": "/chat"}
        lines.append({**common, "event": "gateway", "ts": iso(start), "latency_ms": llm + 40, "status": 200})
        lines.append(
            {
                **common,
                "event": "llm",
                "ts": iso(start + timedelta(milliseconds=20)),
                "latency_ms": llm,
                "model": "gpt-4o",
                "input_tokens": 500,
                "output_tokens": rng.randint(tokens // 2, tokens * 3 // 2),
                "status": 500 if rng.random() < 0.01 else 200,
            }
        )
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def saved_summary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("baseline") / "baseline.json"
    result = invoke("summarize", str(SAMPLE), "--format", "json", "--output", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_exit_0_when_every_slo_holds(sample: Summary) -> None:
    p95 = sample.overall["latency_p95"][0]
    rate = sample.overall["error_rate"][0]
    result = invoke(
        "check", str(SAMPLE), "--slo", f"error_rate < {rate * 200:.4f}%", "--slo", f"p95 < {p95 * 1.01:.0f}"
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert "passed: 0 of 2 SLO result(s) breached" in result.output
    assert f"{p95:,.0f} ms" in result.output  # the p95 `summarize` shows


def test_exit_1_when_one_is_breached(sample: Summary) -> None:
    rate = sample.overall["error_rate"][0]
    result = invoke("check", str(SAMPLE), "--slo", f"error_rate < {rate * 50:.4f}%", "--slo", "requests > 0")
    assert result.exit_code == ExitCode.FOUND_PROBLEMS == 1
    assert "FAILED: 1 of 2 SLO result(s) breached" in result.output
    assert "BREACHED" in result.output and f"{rate * 100:.2f}%" in result.output


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
        ([str(SAMPLE), "--slo", "p95 < 1", "--since", "2030-01-01"], "lie outside the window"),
    ],
)
def test_usage_and_input_errors_are_exit_2(args: list[str], message: str) -> None:
    result = invoke("check", *args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.output.startswith("aiobs: ")
    assert message in result.output
    assert "Traceback" not in result.output


def test_no_data_passes_unless_strict(tmp_path: Path) -> None:
    filtered = [
        "check",
        str(SAMPLE),
        "--slo",
        "p95(latency_ms, model=not-in-these-logs) < 1000",
        "--slo",
        "requests > 0",
    ]
    # A filter that matches no request fails (a typo must not pass CI forever) unless allowed ...
    unmatched = invoke(*filtered)
    assert unmatched.exit_code == ExitCode.FOUND_PROBLEMS
    assert "UNMATCHED" in unmatched.output and "not-in-these-logs" in unmatched.output
    # ... and then it is "no data", which passes unless --strict.
    args = [*filtered, "--allow-unmatched"]
    relaxed = invoke(*args)
    assert relaxed.exit_code == ExitCode.OK
    assert "no data" in relaxed.output and "not-in-these-logs" in relaxed.output
    strict = invoke(*args, "--strict")
    assert strict.exit_code == ExitCode.FOUND_PROBLEMS
    assert "1 SLO(s) without data (--strict)" in strict.output
    # Baseline groups too small to compare are not what --strict is about.
    clean = native_log(tmp_path / "clean.jsonl", 100, seed=4)  # p95 of 100 requests: too few to compare
    small = invoke("check", str(clean), "--baseline", str(clean), "--strict")
    assert small.exit_code == ExitCode.OK, small.output
    assert "without data" in small.output


def test_step_summary_is_appended_and_junit_written(tmp_path: Path, sample: Summary) -> None:
    summary_file = tmp_path / "summary.md"
    summary_file.write_text("# earlier step\n")
    junit = tmp_path / "junit.xml"
    result = invoke(
        "check",
        str(SAMPLE),
        "--slo",
        "requests < 1 by route",
        "--junit",
        str(junit),
        env={"GITHUB_STEP_SUMMARY": str(summary_file)},
    )
    assert result.exit_code == 1
    text = summary_file.read_text()
    assert text.startswith("# earlier step\n## aiobs check: FAILED")
    assert "| ❌ breached | requests &lt; 1 by route | route=/rag/answer |" in text
    SCHEMA.validate(str(junit))
    cases = ET.parse(junit).getroot().findall("./testsuite/testcase")
    routes = sample.requests.select("route").unique().collect().height
    assert len(cases) == routes
    assert sum(c.find("failure") is not None for c in cases) == routes


def test_an_unwritable_step_summary_is_a_warning(tmp_path: Path) -> None:
    result = invoke(
        "check", str(CHATBOT), "--slo", "requests > 0", env={"GITHUB_STEP_SUMMARY": str(tmp_path / "no" / "f.md")}
    )
    assert result.exit_code == 0
    assert "warning: cannot append to $GITHUB_STEP_SUMMARY" in result.output


def test_slos_and_gates_from_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "aiobs.toml").write_text(
        '[slo]\nlatency = "p95(latency_ms) < 20m"\nerrors = "error_rate < 0.01%"\nmax_regression = ["error_rate=1pp"]\n'
    )
    monkeypatch.chdir(tmp_path)
    result = invoke("check", str(SAMPLE))
    assert result.exit_code == 1
    assert "latency: p95(latency_ms) < 20m" in result.output
    assert "errors: error_rate < 0.01%" in result.output
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
    baseline = native_log(tmp_path / "base.jsonl", 600, seed=1)
    same = native_log(tmp_path / "same.jsonl", 600, seed=2)
    worse = native_log(tmp_path / "worse.jsonl", 600, seed=3, slower=1.6, tokens=400)
    gates = ["--max-regression", "p95=10%", "--max-regression", "cost_per_1k=10%", "--max-regression", "error_rate=1pp"]
    calm = invoke("check", str(same), "--baseline", str(baseline), *gates, "--junit", str(tmp_path / "j.xml"))
    assert calm.exit_code == 0, calm.output
    assert "REGRESSED" not in calm.output
    SCHEMA.validate(str(tmp_path / "j.xml"))
    bad = invoke("check", str(worse), "--baseline", str(baseline), *gates, "--all")
    assert bad.exit_code == 1, bad.output
    regressed = [line for line in bad.output.splitlines() if line.startswith("| REGRESSED")]
    assert len(regressed) >= 4  # p95 and cost, overall and for gpt-4o (and /chat, the llm stage)
    back = invoke("check", str(baseline), "--baseline", str(worse), *gates)
    assert back.exit_code == 0 and "improved" in back.output


def test_history_from_check_and_summarize_then_listed_and_pruned(tmp_path: Path, sample: Summary) -> None:
    store = tmp_path / "store"
    hours = sample.requests.select(pl.col("start").dt.truncate("1h")).unique().collect().height
    days = sorted(sample.requests.select(pl.col("start").dt.date()).unique().collect().to_series().to_list())
    assert invoke("summarize", str(SAMPLE), "--history", str(store)).exit_code == 0
    checked = invoke("check", str(SAMPLE), "--slo", "requests > 0", "--history", str(store))
    assert checked.exit_code == 0
    assert "aiobs: recorded run" in checked.output and f"({hours} hour bucket(s))" in checked.output
    listed = invoke("history", str(store))
    assert listed.exit_code == 0, listed.output
    head = f"{len(days)} day(s), {hours} hour bucket(s), {sample.n_requests:,} requests, 1 run(s)"
    assert head in listed.output
    as_json = orjson.loads(invoke("history", str(store), "--format", "json", "--by", "model").output)
    assert {r["key"] for r in as_json["trends"]["rows"]} >= {"gpt-4o", "claude-sonnet-4-5"}
    assert sum(r["requests"] for r in as_json["trends"]["rows"]) == sample.n_requests
    pruned = invoke("history", str(store), "--keep-days", "1")  # today is after the sample days
    assert f"Pruned {len(days)} day(s): {', '.join(d.isoformat() for d in days)}" in pruned.output
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


def test_a_misspelt_flag_is_a_usage_error_not_no_data() -> None:
    """A typo must not leave a CI gate green as "no data"."""
    result = CliRunner().invoke(app, ["check", str(SAMPLE), "--slo", "rate(refusl) < 2%"])
    assert result.exit_code == 2
    assert "unknown quality flag 'refusl'" in result.output and "did you mean refusal?" in result.output


def test_a_filter_value_the_logs_lack_suggests_the_closest() -> None:
    result = CliRunner().invoke(app, ["check", str(SAMPLE), "--slo", "p95(latency_ms, model=gpt-4oo) < 2500"])
    assert result.exit_code == 1  # a filter that matches nothing fails, with the likely fix ...
    assert "did you mean" in result.output and "model=gpt-4o?" in result.output.replace("\n", " ")
    allowed = ["check", str(SAMPLE), "--slo", "p95(latency_ms, model=gpt-4oo) < 2500", "--allow-unmatched"]
    assert CliRunner().invoke(app, allowed).exit_code == 0  # ... unless a canary may not call every model


@pytest.mark.parametrize("width", [80, 100])
def test_the_slo_table_fits_the_terminal_without_cropping_a_column(width: int) -> None:
    slos = ["p95(latency_ms) < 15s", "error_rate < 2% by route", "cost_per_1k < $8"]
    result = invoke("check", str(SAMPLE), *(a for s in slos for a in ("--slo", s)), env={"COLUMNS": str(width)})
    assert result.exit_code == 1, result.output
    table = result.output[result.output.index("SLOs") :].splitlines()
    assert all(len(line) <= width for line in table)
    assert table[1].startswith("+-") and table[1].endswith("-+")  # the note column is not cut off at the edge
    bottom = next(i for i, line in enumerate(table) if i > 1 and line.startswith("+-"))
    assert table[bottom].endswith("-+")
    assert not any(line.startswith(("|", "+")) for line in table[bottom + 1 :])  # then only notes (footnotes)
    assert "12 unpriced: a lower bound" in " ".join(" ".join(line.strip("| ").split()) for line in table)


def test_a_junit_file_that_cannot_be_written_is_refused_before_the_check(tmp_path: Path) -> None:
    # Found only after the check, it turned a breached SLO (exit 1) into exit 2.
    target = tmp_path / "missing" / "junit.xml"
    result = invoke("check", str(CHATBOT), "--slo", "error_rate < 0.1%", "--junit", str(target))
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""  # no table: the logs were not read
    assert result.stderr.strip() == f"aiobs: cannot write {target}: folder {target.parent} does not exist"
