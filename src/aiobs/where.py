"""`--where`: which requests a command looks at, as conditions on the request table.

    --where route=/chat            a label equals a value (model, route, user, provider, finish_reason, ...)
    --where 'model~gpt-4o'         a label matches a regular expression, case-insensitive (search, not whole)
    --where 'route!=/health'       ... or does not (!=, !~)
    --where 'latency_ms>2000'      a number compares (latency_ms, ttft_ms, cost_usd, input_tokens, retries, ...)
    --where flag=refusal           a quality flag was raised (flag!=refusal: it was not)
    --where error=true             the request failed (error=false: it did not)

Conditions are joined with `,` or by repeating `--where`; a request must meet all of them. A request that
does not have the field (no route logged, no cost known) meets no condition on it, `!=` included, so a
filter never counts what the logs do not say.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import polars as pl

from aiobs.errors import UsageError, did_you_mean
from aiobs.schema import REQUEST_SCHEMA

_CONDITION = re.compile(r"^\s*([a-z_]+)\s*(!=|!~|>=|<=|=|~|>|<)\s*(.*?)\s*$")
_NUMERIC = tuple(name for name, dtype in REQUEST_SCHEMA.items() if dtype.is_numeric() and name != "is_error")
_LABELS = tuple(
    name
    for name, dtype in REQUEST_SCHEMA.items()
    if dtype == pl.String() and name not in ("input_text", "output_text", "context_text")
)
_KEYS = (*_LABELS, *_NUMERIC, "flag", "error")


@dataclass(frozen=True)
class Where:
    """The conditions as written (shown in outputs) and as one Polars predicate on the request table."""

    text: str
    predicate: pl.Expr
    flags: tuple[str, ...]
    #: (label, value) of each `label=value`, to name the closest value the logs have when nothing matched.
    equalities: tuple[tuple[str, str], ...] = ()

    def hints(self, requests: pl.LazyFrame) -> str:
        """`; route has /chat/stream, not /chats` for each equality whose value no request has."""
        found = []
        for key, value in self.equalities:
            present = requests.select(pl.col(key).drop_nulls().unique().head(10_000)).collect().to_series().to_list()
            if value in present:
                continue
            close = difflib.get_close_matches(value, present, n=1)
            found.append(f"{key} has {close[0]}, not {value}" if close else f"no request has {key}={value}")
        return "; " + "; ".join(found) if found else ""


def parse_where(texts: list[str]) -> Where | None:
    """Every `--where` given, joined; None when none was. A condition that cannot be read is a UsageError."""
    conditions = [c for text in texts for c in text.split(",") if c.strip()]
    if not conditions:
        return None
    predicates, flags, equalities = [], [], []
    for condition in conditions:
        key, op, value = _parts(condition)
        predicates.append(_condition(key, op, value))
        if key == "flag":
            flags.append(value)
        elif op == "=" and key in _LABELS:
            equalities.append((key, value))
    text = ", ".join(c.strip() for c in conditions)
    return Where(text, pl.all_horizontal(predicates), tuple(flags), tuple(equalities))


def _parts(text: str) -> tuple[str, str, str]:
    match = _CONDITION.match(text)
    if not match:
        msg = f"--where: cannot read '{text.strip()}': write FIELD=VALUE, FIELD~REGEX or FIELD>NUMBER (route=/chat)"
        raise UsageError(msg)
    key, op, value = match.groups()
    return key, op, value


def check_flags(where: Where, rated: list[str]) -> None:
    """The flags `--where` names must be among those rated (none are with --no-flags)."""
    for flag in where.flags:
        if not rated:
            msg = f"--where flag={flag} needs the quality flags: leave out --no-flags"
            raise UsageError(msg)
        if flag not in rated:
            suggestion = did_you_mean(flag, rated) or f": choose from {', '.join(rated)}"
            msg = f"--where: unknown flag '{flag}'{suggestion}"
            raise UsageError(msg)


def _condition(key: str, op: str, value: str) -> pl.Expr:
    if key not in _KEYS:
        suggestion = did_you_mean(key, _KEYS) or f": use {', '.join(_KEYS)}"
        raise UsageError(f"--where: unknown field '{key}'{suggestion}")
    if key in ("flag", "error"):
        return _flag_or_error(key, op, value)
    if key in _NUMERIC:
        return _number(key, op, value)
    return _label(key, op, value)


def _flag_or_error(key: str, op: str, value: str) -> pl.Expr:
    if op not in ("=", "!="):
        raise UsageError(f"--where: {key} takes = or != (flag=refusal, error=true), not {op}")
    if key == "error":
        if value.lower() not in ("true", "false"):
            raise UsageError(f"--where: error is true or false, not '{value}'")
        failed = pl.col("is_error") == (value.lower() == "true")
        return failed if op == "=" else ~failed
    raised = pl.col(f"flag_{value}")
    return raised if op == "=" else ~raised


def _number(key: str, op: str, value: str) -> pl.Expr:
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"--where: {key} is a number: '{value}' is not one") from None
    column = pl.col(key)
    comparisons = {
        "=": column == number,
        "!=": column != number,
        ">": column > number,
        ">=": column >= number,
        "<": column < number,
        "<=": column <= number,
    }
    if op not in comparisons:
        raise UsageError(f"--where: {key} is a number: compare it with =, !=, >, >=, < or <=")
    return comparisons[op]


def _label(key: str, op: str, value: str) -> pl.Expr:
    column = pl.col(key)
    if op in ("=", "!="):
        return column == value if op == "=" else column != value
    if op in ("~", "!~"):
        pattern = f"(?i){value}"
        try:  # Polars' regular expressions (Rust's regex crate): no look-around, no backreferences
            pl.select(pl.lit("").str.contains(pattern))
        except pl.exceptions.ComputeError as exc:
            lines = str(exc).splitlines()
            reason = next((ln.removeprefix("error: ") for ln in lines if ln.startswith("error: ")), lines[0])
            raise UsageError(f"--where: '{value}' is not a regular expression Polars reads: {reason}") from None
        found = column.str.contains(pattern)
        return found if op == "~" else ~found
    raise UsageError(f"--where: {key} is text: compare it with =, !=, ~ or !~")
