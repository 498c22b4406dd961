"""SLO and gate expressions: what parses to what, and where the caret goes when something does not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiobs.errors import UsageError
from aiobs.gates.catalogue import Unit
from aiobs.gates.expressions import ExpressionError, parse_gate, parse_slo, tokenize


@pytest.mark.parametrize(
    ("text", "label", "op", "limit", "by"),
    [
        ("p95(latency_ms) < 3000", "p95(latency_ms)", "<", 3000.0, ()),
        ("error_rate < 1%", "error_rate", "<", 0.01, ()),
        ("error_rate<0.01", "error_rate", "<", 0.01, ()),
        ("p99(latency_ms, stage=llm) < 8000", "p99(latency_ms, stage=llm)", "<", 8000.0, ()),
        ("cost_per_1k < 2.50", "cost_per_1k", "<", 2.5, ()),
        ("cost_per_1k <= $2.50", "cost_per_1k", "<=", 2.5, ()),
        ("rate(refusal) < 2%", "rate(refusal)", "<", 0.02, ()),
        ("acceptance_rate > 85%", "acceptance_rate", ">", 0.85, ()),
        ("p95(latency_ms, model=gpt-4o) < 2500", "p95(latency_ms, model=gpt-4o)", "<", 2500.0, ()),
        ("p95(latency_ms) < 2.5s by model", "p95(latency_ms)", "<", 2500.0, ("model",)),
        ("p95 < 1m by model, route", "p95(latency_ms)", "<", 60000.0, ("model", "route")),
        ("p99.9(ttft_ms) < 900ms", "p99.9(ttft_ms)", "<", 900.0, ()),
        ("p75(output_tokens) >= 20", "p75(output_tokens)", ">=", 20.0, ()),
        ("mean(cost_usd) < $0.01", "mean(cost_usd)", "<", 0.01, ()),
        ("max(retrieval_ms) < 2000", "max(retrieval_ms)", "<", 2000.0, ()),
        ("error_rate < 2% by route", "error_rate", "<", 0.02, ("route",)),
        ('p95(latency_ms, route="/rag/answer") < 5000', "p95(latency_ms, route=/rag/answer)", "<", 5000.0, ()),
        ("p95(latency_ms, model='odd name|x') < 5000", 'p95(latency_ms, model="odd name|x")', "<", 5000.0, ()),
        ("p95(latency_ms,model=4o-mini) < 1e3", "p95(latency_ms, model=4o-mini)", "<", 1000.0, ()),
        ("requests >= 100", "requests", ">=", 100.0, ()),
        ("tokens_per_s > 20", "tokens_per_s", ">", 20.0, ()),
        ("retry_rate < 5%", "retry_rate", "<", 0.05, ()),
    ],
)
def test_good_slos(text: str, label: str, op: str, limit: float, by: tuple[str, ...]) -> None:
    slo = parse_slo(text)
    assert slo.metric.label == label
    assert (slo.op, slo.by) == (op, by)
    assert slo.limit == pytest.approx(limit)
    assert slo.text == text


def test_units_and_directions() -> None:
    assert parse_slo("p95 < 3").metric.unit is Unit.MS
    assert parse_slo("error_rate < 1%").metric.unit is Unit.FRACTION
    assert parse_slo("cost < 1").metric.unit is Unit.USD
    assert parse_slo("mean(output_tokens) < 1").metric.unit is Unit.COUNT
    assert not parse_slo("acceptance_rate > 1%").metric.higher_is_worse
    slo = parse_slo("p95 <= 100")
    assert slo.holds(100.0) and not slo.holds(100.5)
    assert parse_slo("acceptance_rate > 85%").holds(0.86)


@pytest.mark.parametrize(
    ("text", "column", "width", "message"),
    [
        ("p95(latency_ms) <<", 18, 1, "expected a number, found '<'"),
        ("p95(latency_ms) < 3000x", 19, 5, "unexpected unit 'x'"),
        ("p95(latncy_ms) < 3", 5, 9, "unknown field 'latncy_ms'; did you mean latency_ms?"),
        ("error_rat < 1%", 1, 9, "unknown metric 'error_rat'; did you mean error_rate?"),
        ("error_rate < 5", 14, 1, "a rate is between 0 and 1: write 5% or 0.05"),
        ("p95 < 2%", 8, 1, "'%' fits a rate; p95(latency_ms) is in ms"),
        ("error_rate < $1", 14, 1, "'$' fits a cost"),
        ("rate < 1%", 1, 4, "rate needs a flag name"),
        ("rate(*) < 1%", 6, 1, "expected a field, flag or filter"),
        ("rate(Refusal) < 1%", 6, 7, "a flag name is lower-case"),
        ("p95(latency_ms, modl=x) < 3", 17, 4, "cannot filter on 'modl'"),
        ("p95(latency_ms, stage=foo) < 3", 23, 3, "unknown stage 'foo'"),
        ("p95(latency_ms, model=a, model=b) < 3", 26, 5, "model is filtered twice"),
        ("p95(latency_ms ttft_ms) < 3", 16, 7, "expected ',' between arguments"),
        ("p95(latency_ms,) < 3", 16, 1, "expected a field, flag or filter"),
        ("p95 < 3 by colour", 12, 6, "expected a grouping after 'by'"),
        ("p95(latency_ms, model=x) < 3 by model", 33, 5, "model is already used"),
        ("p95 == 3", 5, 2, "expected a comparison"),
        ("p95 3000", 5, 4, "expected a comparison"),
        ("p95 < 3 extra", 9, 5, "unexpected 'extra' after the end of the SLO"),
        ('"p95', 1, 4, 'the quote " is never closed'),
        ("p95 & 3", 5, 1, "unexpected character '&'"),
        ("p100 < 4", 1, 4, "a percentile is between p0 and p100"),
        ("error_rate(latency_ms) < 1%", 12, 10, "error_rate takes no field"),
        ("", 1, 1, "expected a metric name"),
        ("< 3", 1, 1, "expected a metric name"),
    ],
)
def test_bad_slos_point_at_the_token(text: str, column: int, width: int, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_slo(text)
    error = caught.value
    assert message in error.problem
    assert error.start + 1 == column
    assert isinstance(error, UsageError)  # the CLI turns it into exit code 2
    # The message repeats the expression and puts carets under the bad token, and only there.
    lines = str(error).splitlines()
    assert lines[0] == f"invalid SLO (column {column}): {error.problem}"
    assert lines[1] == f"    {text}"
    caret = lines[2][4:]
    assert caret == " " * (column - 1) + "^" * width


@pytest.mark.parametrize(
    ("text", "label", "limit", "relative", "by"),
    [
        ("p95=10%", "p95(latency_ms)", 0.10, True, ()),
        ("p99(latency_ms)=+15%", "p99(latency_ms)", 0.15, True, ()),
        ("p99(latency_ms, stage=llm)=15%", "p99(latency_ms, stage=llm)", 0.15, True, ()),
        ("p95 = 10% by model", "p95(latency_ms)", 0.10, True, ("model",)),
        ("p95=10% by overall", "p95(latency_ms)", 0.10, True, ("overall",)),
        ("error_rate=0.5pp", "error_rate", 0.005, False, ()),
        ("error_rate=1%", "error_rate", 0.01, False, ()),
        ("cost_per_1k=10%", "cost_per_1k", 0.10, True, ()),
        ("rate(refusal)=1pp by route", "rate(refusal)", 0.01, False, ("route",)),
        ("rate(*)=2pp", "rate(*)", 0.02, False, ()),
        ("acceptance_rate=5pp", "acceptance_rate", 0.05, False, ()),
        ("error_rate(model=gpt-4o)=1pp", "error_rate(model=gpt-4o)", 0.01, False, ()),
    ],
)
def test_good_gates(text: str, label: str, limit: float, relative: bool, by: tuple[str, ...]) -> None:
    gate = parse_gate(text)
    assert gate.metric.label == label
    assert gate.limit == pytest.approx(limit)
    assert (gate.relative, gate.by) == (relative, by)


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("p95=10", 5, "write the allowed worsening as a percentage"),
        ("p95=10pp", 5, "'pp' (percentage points) fits a rate"),
        ("p95 < 10%", 5, "expected '=' after p95(latency_ms)"),
        ("mean(latency_ms)=10%", 1, "cannot be compared with a baseline"),
        ("p95(ttft_ms)=10%", 1, "cannot be compared with a baseline"),
        ("error_rate(stage=llm)=1pp", 1, "cannot be compared with a baseline"),
        ("p95=10% by user", 12, "expected a grouping after 'by' (overall, model, route, stage)"),
        ("p95(latency_ms, model=x)=10% by route", 33, "names one group already"),
        ("p95=10% by model, route", 17, "unexpected ','"),
        ("rate(*) < 1%", 9, "expected '=' after rate(*) (e.g. rate(*)=1pp)"),
    ],
)
def test_bad_gates(text: str, column: int, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_gate(text)
    assert message in caught.value.problem
    assert caught.value.start + 1 == column
    assert str(caught.value).startswith("invalid regression gate")


def test_tokens_keep_their_columns() -> None:
    tokens = tokenize("p95(latency_ms, model=gpt-4o) < 3s")
    assert [(t.text, t.start) for t in tokens[:-1]] == [
        ("p95", 0),
        ("(", 3),
        ("latency_ms", 4),
        (",", 14),
        ("model", 16),
        ("=", 21),
        ("gpt-4o", 22),
        (")", 28),
        ("<", 30),
        ("3s", 32),
    ]
    assert (tokens[-2].number, tokens[-2].unit) == (3.0, "s")


@given(st.text(alphabet=st.sampled_from(list("p95(latency_ms,model=gpt-4o)<>=%$. by\"'3e+*&")), max_size=40))
def test_any_text_parses_or_fails_with_a_positioned_error(text: str) -> None:
    for parse in (parse_slo, parse_gate):
        try:
            parse(text)
        except ExpressionError as error:
            assert 0 <= error.start <= len(text)
            assert error.problem
