"""`--where`: conditions on the request table, checked against the same selection made by hand."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.errors import UsageError
from aiobs.where import check_flags, parse_where

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"

REQUESTS = pl.DataFrame(
    {
        "correlation_id": ["a", "b", "c", "d", "e"],
        "route": ["/chat", "/chat/stream", None, "/rag", "/chat"],
        "model": ["gpt-4o", "GPT-4o-mini", "claude", None, "gpt-4.1"],
        "latency_ms": [100.0, 2500.0, None, 3000.0, 2000.0],
        "is_error": [False, True, False, True, False],
        "flag_refusal": [True, False, None, False, False],
    }
)


def selected(*conditions: str) -> list[str]:
    where = parse_where(list(conditions))
    assert where is not None
    return REQUESTS.filter(where.predicate).get_column("correlation_id").to_list()


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (["route=/chat"], ["a", "e"]),
        (["route!=/chat"], ["b", "d"]),  # c has no route: it meets no condition on it, != included
        (["model~gpt-4o"], ["a", "b"]),  # a search, case-insensitive
        (["model!~^gpt"], ["c"]),
        (["latency_ms>2000"], ["b", "d"]),
        (["latency_ms>=2000"], ["b", "d", "e"]),
        (["latency_ms<2000"], ["a"]),
        (["flag=refusal"], ["a"]),
        (["flag!=refusal"], ["b", "d", "e"]),  # c: the flag does not apply
        (["error=true"], ["b", "d"]),
        (["error=false", "route=/chat"], ["a", "e"]),  # repeated: all must hold
        (["error=false, latency_ms > 1000"], ["e"]),  # joined with a comma, spaces allowed
    ],
)
def test_conditions_select_what_they_say(conditions: list[str], expected: list[str]) -> None:
    assert selected(*conditions) == expected


def test_no_condition_is_no_filter() -> None:
    assert parse_where([]) is None
    assert parse_where([" , "]) is None


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("rout=/chat", "--where: unknown field 'rout'; did you mean route?"),
        ("route", "--where: cannot read 'route': write FIELD=VALUE, FIELD~REGEX or FIELD>NUMBER (route=/chat)"),
        ("latency_ms>fast", "--where: latency_ms is a number: 'fast' is not one"),
        ("latency_ms~1", "--where: latency_ms is a number: compare it with =, !=, >, >=, < or <="),
        ("route>3", "--where: route is text: compare it with =, !=, ~ or !~"),
        ("flag>refusal", "--where: flag takes = or != (flag=refusal, error=true), not >"),
        ("error=maybe", "--where: error is true or false, not 'maybe'"),
        ("model~(", "--where: '(' is not a regular expression Polars reads"),
    ],
)
def test_a_condition_that_cannot_be_read_is_one_sentence(condition: str, message: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_where([condition])
    assert str(error.value).startswith(message)


def test_flags_must_be_rated() -> None:
    where = parse_where(["flag=refusl"])
    assert where is not None
    with pytest.raises(UsageError, match="did you mean refusal"):
        check_flags(where, ["refusal", "truncated"])
    with pytest.raises(UsageError, match="leave out --no-flags"):
        check_flags(where, [])


def test_the_summary_says_what_it_selected_and_names_a_near_miss() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["summarize", str(SAMPLES), "--where", "route=/chat", "--where", "model~gpt-4o"])
    assert result.exit_code == 0, result.output
    assert "79 of 2,600 requests (matching --where route=/chat, model~gpt-4o)" in result.stdout
    miss = runner.invoke(app, ["summarize", str(SAMPLES), "--where", "route=/chats"])
    assert (miss.exit_code, miss.stderr) == (
        2,
        "aiobs: no request matches --where route=/chats: none of the 2,600 requests read; "
        "route has /chat, not /chats\n",
    )


def test_outliers_and_check_read_only_the_selection() -> None:
    runner = CliRunner()
    slo = ["--slo", "error_rate < 1%"]
    everything = runner.invoke(app, ["check", str(SAMPLES), *slo])
    chat_only = runner.invoke(app, ["check", str(SAMPLES), *slo, "--where", "route=/chat", "--where", "error=false"])
    assert everything.exit_code == 1 and chat_only.exit_code == 0, chat_only.output
    outliers = runner.invoke(app, ["outliers", str(SAMPLES), "--where", "route~^/rag", "--format", "csv"])
    assert outliers.exit_code == 0, outliers.output
    routes = pl.read_csv(outliers.stdout.encode()).get_column("route").unique().to_list()
    assert routes and all(r.startswith("/rag") for r in routes)
