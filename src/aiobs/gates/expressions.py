"""SLO and regression-gate expressions: a tokenizer and a recursive-descent parser.

    slo        := metric COMPARE threshold [ "by" key ("," key)* ]
    gate       := metric "=" ["+"] NUMBER ("%" | "pp") [ "by" (key | "overall") ]
    metric     := NAME [ "(" [ arg ("," arg)* ] ")" ]
    arg        := NAME "=" value          a filter: model=gpt-4o, route="/chat", stage=llm
                | NAME | "*"              the field (latency_ms) or flag (refusal); * = every flag
    threshold  := ["$"] NUMBER [UNIT] ["%"]      3000, 3000ms, 3s, 1%, 0.01, $2.50
    COMPARE    := "<" | "<=" | ">" | ">="
    value      := NAME | NUMBER | STRING         bare words may hold - . / : @ +; quote anything else

Hand-written rather than built with a parsing library: the grammar is a dozen lines, and writing it
out lets every error say what was expected at that token (with a caret under it) in the words of
this domain ("'%' fits a rate; p95(latency_ms) is in ms"), which generic parser errors do not.
The parser also checks meaning: known metric, field and flag names, units that fit the metric.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from enum import StrEnum

from aiobs.errors import UsageError
from aiobs.gates.catalogue import (
    DEFAULT_FIELD,
    FIELDS,
    GATE_DIMENSIONS,
    GATE_GROUPINGS,
    GROUP_KEYS,
    METRICS,
    STAGE_VALUES,
    Unit,
    known_names,
    percentile_of,
)


class Kind(StrEnum):
    NAME = "name"
    NUMBER = "number"
    STRING = "string"
    COMPARE = "comparison"
    PUNCT = "punctuation"
    END = "end of expression"


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str
    start: int
    end: int
    #: NUMBER tokens: the number and the letters right after it (`3s` -> 3.0, "s").
    number: float | None = None
    unit: str = ""


class ExpressionError(UsageError):
    """An invalid expression; the message shows it with a caret under the offending token."""

    def __init__(self, what: str, text: str, start: int, end: int, problem: str) -> None:
        self.what, self.text, self.start, self.end, self.problem = what, text, start, end, problem
        caret = " " * start + "^" * max(1, end - start)
        super().__init__(f"invalid {what} (column {start + 1}): {problem}\n    {text}\n    {caret}")


_WORD = re.compile(r"[A-Za-z0-9_/][\w./:@+-]*")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([A-Za-z]*)")
_STRING = re.compile(r"\"[^\"]*\"|'[^']*'")
_COMPARE = re.compile(r"<=|>=|==|!=|=<|=>|<|>")
_PUNCT = "(),=%$*+"


def tokenize(text: str, what: str = "SLO") -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if match := _COMPARE.match(text, i):
            tokens.append(Token(Kind.COMPARE, match.group(), i, match.end()))
        elif ch in _PUNCT:
            tokens.append(Token(Kind.PUNCT, ch, i, i + 1))
            i += 1
            continue
        elif ch in "\"'":
            match = _STRING.match(text, i)
            if match is None:
                raise ExpressionError(what, text, i, len(text), f"the quote {ch} is never closed")
            tokens.append(Token(Kind.STRING, match.group()[1:-1], i, match.end()))
        elif match := _WORD.match(text, i):
            word = match.group()
            number = _NUMBER.fullmatch(word)
            if number and ch.isdigit():
                tokens.append(Token(Kind.NUMBER, word, i, match.end(), float(number.group(1)), number.group(2)))
            else:
                tokens.append(Token(Kind.NAME, word, i, match.end()))
        else:
            raise ExpressionError(what, text, i, i + 1, f"unexpected character {ch!r}")
        i = match.end()
    tokens.append(Token(Kind.END, "", len(text), len(text)))
    return tokens


# -- what the parser builds ------------------------------------------------------------------------------


def _quoted(value: str) -> str:
    return value if _WORD.fullmatch(value) else '"' + value.replace('"', "'") + '"'


@dataclass(frozen=True)
class MetricRef:
    """A metric with its argument and filters: `p95(latency_ms, model=gpt-4o)`."""

    name: str
    unit: Unit
    higher_is_worse: bool
    quantile: float | None = None
    argument: str | None = None
    filters: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        args = ([self.argument] if self.argument else []) + [f"{k}={_quoted(v)}" for k, v in self.filters]
        return f"{self.name}({', '.join(args)})" if args else self.name

    @property
    def is_percentile(self) -> bool:
        return self.quantile is not None


@dataclass(frozen=True)
class Slo:
    """`metric OP limit [by keys]`; `limit` in the metric's base unit (ms, fraction, dollars)."""

    text: str
    metric: MetricRef
    op: str
    limit: float
    by: tuple[str, ...] = ()
    name: str = ""

    def holds(self, value: float) -> bool:
        return {"<": value < self.limit, "<=": value <= self.limit, ">": value > self.limit, ">=": value >= self.limit}[
            self.op
        ]

    @property
    def title(self) -> str:
        return self.name or self.text


@dataclass(frozen=True)
class Gate:
    """`metric = limit`: the largest worsening allowed against the baseline.

    `limit` is relative (0.10 = 10 % slower or dearer) for latency and cost, and in absolute points of
    a rate (0.01 = one percentage point) for rates. `by` limits the gate to one grouping.
    """

    text: str
    metric: MetricRef
    limit: float
    by: tuple[str, ...] = ()
    relative: bool = field(default=True)


# -- the parser ------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        self.text, self.what = text, what
        self.tokens = tokenize(text, what)
        self.i = 0

    def error(self, token: Token, problem: str) -> ExpressionError:
        return ExpressionError(self.what, self.text, token.start, max(token.end, token.start + 1), problem)

    @property
    def peek(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def accept(self, text: str) -> Token | None:
        if self.peek.kind in (Kind.PUNCT, Kind.COMPARE) and self.peek.text == text:
            return self.advance()
        return None

    def expect(self, text: str, after: str) -> Token:
        token = self.accept(text)
        if token is None:
            raise self.error(self.peek, f"expected '{text}' {after}, found {_describe(self.peek)}")
        return token

    # metric := NAME [ "(" args ")" ]
    def metric(self, *, gate: bool) -> MetricRef:
        token = self.advance()
        if token.kind is not Kind.NAME:
            raise self.error(token, f"expected a metric name (p95, error_rate, rate, ...), found {_describe(token)}")
        name = token.text
        quantile = percentile_of(name)
        spec = METRICS.get(name)
        if quantile is None and spec is None:
            hint = difflib.get_close_matches(name, known_names(), n=1)
            suggestion = f"; did you mean {hint[0]}?" if hint else "; see docs/ci.md for the metric names"
            percent = re.fullmatch(r"p(\d+(?:\.\d+)?)", name)
            if percent:
                raise self.error(token, f"a percentile is between p0 and p100 (exclusive), not {name}")
            raise self.error(token, f"unknown metric '{name}'{suggestion}")
        takes = "field" if quantile is not None else spec.argument if spec else None
        argument: str | None = None
        filters: list[tuple[str, str]] = []
        if self.accept("("):
            while not self.accept(")"):
                if argument is not None or filters:
                    self.expect(",", "between arguments")
                argument, filters = self.argument(name, takes, argument, filters, gate=gate)
        if takes == "field" and argument is None:
            argument = DEFAULT_FIELD
        if takes == "flag" and argument is None:
            raise self.error(token, f"{name} needs a flag name, e.g. {name}(refusal)")
        if quantile is not None or takes == "field":
            unit, worse = FIELDS[argument or DEFAULT_FIELD], True
        else:
            assert spec is not None
            unit, worse = spec.unit, spec.higher_is_worse
        return MetricRef(name, unit, worse, quantile, argument, tuple(filters))

    def argument(
        self, name: str, takes: str | None, argument: str | None, filters: list[tuple[str, str]], *, gate: bool
    ) -> tuple[str | None, list[tuple[str, str]]]:
        token = self.advance()
        if token.kind is Kind.PUNCT and token.text == "*" and takes == "flag" and gate:
            if argument is not None:
                raise self.error(token, f"{name} takes one flag name")
            return "*", filters
        if token.kind is not Kind.NAME:
            raise self.error(token, f"expected a field, flag or filter such as model=..., found {_describe(token)}")
        if self.accept("="):
            if token.text not in GROUP_KEYS:
                raise self.error(token, f"cannot filter on '{token.text}': use {', '.join(GROUP_KEYS)}")
            if any(k == token.text for k, _ in filters):
                raise self.error(token, f"{token.text} is filtered twice")
            value = self.advance()
            if value.kind not in (Kind.NAME, Kind.NUMBER, Kind.STRING):
                raise self.error(value, f"expected a value for {token.text}=, found {_describe(value)}")
            if token.text == "stage" and value.text not in STAGE_VALUES:
                raise self.error(value, f"unknown stage '{value.text}': use {', '.join(STAGE_VALUES)}")
            return argument, [*filters, (token.text, value.text)]
        if takes is None:
            raise self.error(token, f"{name} takes no field; filters are written key=value (model=...)")
        if argument is not None:
            raise self.error(token, f"{name} takes one {takes}; filters are written key=value")
        if takes == "field" and token.text not in FIELDS:
            hint = difflib.get_close_matches(token.text, list(FIELDS), n=1)
            suggestion = f"; did you mean {hint[0]}?" if hint else f": use one of {', '.join(FIELDS)}"
            raise self.error(token, f"unknown field '{token.text}'{suggestion}")
        if takes == "flag" and not re.fullmatch(r"[a-z0-9_]+", token.text):
            raise self.error(token, "a flag name is lower-case letters, digits and _ (e.g. refusal, invalid_json)")
        return token.text, filters

    # threshold := ["$"] NUMBER [UNIT] ["%"]
    def threshold(self, metric: MetricRef) -> float:
        dollar = self.accept("$")
        token = self.advance()
        if token.kind is not Kind.NUMBER:
            raise self.error(token, f"expected a number, found {_describe(token)}")
        value = token.number or 0.0
        percent = self.accept("%")
        if dollar and metric.unit is not Unit.USD:
            raise self.error(dollar, f"'$' fits a cost; {metric.label} is {_unit_words(metric.unit)}")
        if percent:
            if metric.unit is not Unit.FRACTION:
                raise self.error(percent, f"'%' fits a rate; {metric.label} is {_unit_words(metric.unit)}")
            if token.unit:
                raise self.error(token, f"unexpected unit '{token.unit}' before '%'")
            return value / 100
        if token.unit:
            if metric.unit is Unit.MS and token.unit in ("ms", "s", "m"):
                return value * {"ms": 1.0, "s": 1000.0, "m": 60000.0}[token.unit]
            expected = "ms, s or m" if metric.unit is Unit.MS else "no unit"
            raise self.error(token, f"unexpected unit '{token.unit}' ({metric.label} takes {expected})")
        if metric.unit is Unit.FRACTION and value > 1:
            raise self.error(token, f"a rate is between 0 and 1: write {token.text}% or {value / 100:g}")
        return value

    def by(self, filters: tuple[tuple[str, str], ...], *, allowed: tuple[str, ...], single: bool) -> tuple[str, ...]:
        if not (self.peek.kind is Kind.NAME and self.peek.text == "by"):
            return ()
        self.advance()
        keys: list[str] = []
        while True:
            token = self.advance()
            if token.kind is not Kind.NAME or token.text not in allowed:
                raise self.error(
                    token, f"expected a grouping after 'by' ({', '.join(allowed)}), found {_describe(token)}"
                )
            if token.text in keys or any(k == token.text for k, _ in filters):
                raise self.error(token, f"{token.text} is already used by a filter or an earlier 'by'")
            keys.append(token.text)
            if single or not self.accept(","):
                return tuple(keys)

    def end(self) -> None:
        if self.peek.kind is not Kind.END:
            raise self.error(self.peek, f"unexpected {_describe(self.peek)} after the end of the {self.what}")

    def slo(self) -> Slo:
        metric = self.metric(gate=False)
        op_token = self.advance()
        if op_token.kind is not Kind.COMPARE or op_token.text not in ("<", "<=", ">", ">="):
            raise self.error(op_token, f"expected a comparison (<, <=, >, >=), found {_describe(op_token)}")
        limit = self.threshold(metric)
        by = self.by(metric.filters, allowed=GROUP_KEYS, single=False)
        self.end()
        return Slo(self.text.strip(), metric, op_token.text, limit, by)

    def gate(self) -> Gate:
        metric = self.metric(gate=True)
        if not _gate_capable(metric):
            raise ExpressionError(
                self.what,
                self.text,
                self.tokens[0].start,
                self.tokens[self.i - 1].end,
                f"{metric.label} cannot be compared with a baseline: use pNN(latency_ms), error_rate, "
                "cost_per_1k, rate(NAME) or acceptance_rate",
            )
        example = "1pp" if metric.unit is Unit.FRACTION else "10%"
        self.expect("=", f"after {metric.label} (e.g. {metric.label}={example})")
        self.accept("+")
        token = self.advance()
        if token.kind is not Kind.NUMBER:
            raise self.error(token, f"expected the largest allowed worsening (10%, 1pp), found {_describe(token)}")
        percent = self.accept("%")
        value = (token.number or 0.0) / 100
        rate = metric.unit is Unit.FRACTION
        if token.unit == "pp" and not percent:
            if not rate:
                raise self.error(token, f"'pp' (percentage points) fits a rate; write {metric.label}={token.number:g}%")
        elif token.unit or not percent:
            raise self.error(token, "write the allowed worsening as a percentage: 10% (relative), or 1pp for a rate")
        by = self.by(metric.filters, allowed=GATE_GROUPINGS, single=True)
        if by and metric.filters:
            raise self.error(self.tokens[self.i - 1], f"{metric.label} names one group already; drop 'by {by[0]}'")
        self.end()
        return Gate(self.text.strip(), metric, value, by, relative=not rate)


def _gate_capable(metric: MetricRef) -> bool:
    if metric.is_percentile:
        return metric.argument == DEFAULT_FIELD and all(k in GATE_DIMENSIONS for k, _ in metric.filters)
    return metric.name in ("error_rate", "cost_per_1k", "rate", "acceptance_rate") and all(
        k in GATE_DIMENSIONS and k != "stage" for k, _ in metric.filters
    )


def _describe(token: Token) -> str:
    return "the end" if token.kind is Kind.END else f"'{token.text}'"


def _unit_words(unit: Unit) -> str:
    return {
        Unit.MS: "in ms",
        Unit.FRACTION: "a rate",
        Unit.USD: "in dollars",
        Unit.COUNT: "a count",
        Unit.PER_SECOND: "per second",
    }[unit]


def parse_slo(text: str, *, name: str = "") -> Slo:
    """`p95(latency_ms, model=gpt-4o) < 2500`, `error_rate < 1% by route`. Raises ExpressionError."""
    slo = _Parser(text, "SLO").slo()
    return Slo(slo.text, slo.metric, slo.op, slo.limit, slo.by, name)


def parse_gate(text: str) -> Gate:
    """`p95=10%`, `error_rate=0.5pp`, `rate(refusal)=1pp by model`. Raises ExpressionError."""
    return _Parser(text, "regression gate").gate()
