"""Thresholds and custom rules of the quality flags: `[quality]` in aiobs.toml (docs/quality.md).

```toml
[quality]
min_output_chars = 10          # too_short below this many characters
max_output_chars = 8000        # too_long above
slow_tokens_per_s = 10         # slow_generation below this decoding speed
json_routes = ["/extract"]     # invalid_json also where these routes did not ask for JSON
refusal_phrases = ["we do not discuss that"]   # added to the built-in list

[[quality.rules]]              # custom flags: flag_<name>
name = "mentions_competitor"
contains = ["acme corp", "globex"]
field = "output"               # or "input"
routes = ["/chat"]             # optional: only these routes
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

from aiobs.errors import UsageError

RULE_FIELDS = ("output", "input")

#: The built-in flags, in the order reports show them (definitions: aiobs.quality.flags, docs/quality.md).
BUILTIN_FLAGS: tuple[str, ...] = (
    "error",
    "retried",
    "empty",
    "too_short",
    "too_long",
    "refusal",
    "truncated",
    "invalid_json",
    "repetition",
    "pii_in_input",
    "pii_in_output",
    "context_unused",
    "ungrounded_url",
    "slow_generation",
)


@dataclass(frozen=True)
class CustomRule:
    """A user flag: true when the text matches `regex`, contains any of `contains`, or is outside the lengths."""

    name: str
    field: str = "output"
    regex: str | None = None
    contains: tuple[str, ...] = ()
    min_chars: int | None = None
    max_chars: int | None = None
    routes: tuple[str, ...] = ()


@dataclass(frozen=True)
class QualityConfig:
    min_output_chars: int = 10
    max_output_chars: int = 8000
    min_output_tokens: int | None = None
    max_output_tokens: int | None = None
    refusal_phrases: tuple[str, ...] = ()
    repetition_snippet_chars: int = 24
    repetition_min_bytes: int = 200
    repetition_min_repeats: int = 4
    context_min_overlap: float = 0.2
    slow_tokens_per_s: float = 10.0
    slow_min_output_tokens: int = 20
    json_routes: tuple[str, ...] = ()
    rules: tuple[CustomRule, ...] = field(default_factory=tuple)


_NUMBERS = {f.name for f in fields(QualityConfig) if f.name not in ("refusal_phrases", "json_routes", "rules")}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        msg = f"{where} must be a string or a list of strings"
        raise UsageError(msg)
    return tuple(value)


def _check_regex(pattern: str, where: str) -> None:
    import polars as pl  # Polars' (Rust) regex syntax, not Python's, is what runs

    try:
        pl.select(pl.lit("").str.contains(pattern))
    except pl.exceptions.PolarsError as exc:
        msg = f"{where}: invalid regular expression {pattern!r} ({str(exc).splitlines()[0]})"
        raise UsageError(msg) from None


def _rule(data: Any, where: str) -> CustomRule:
    if not isinstance(data, dict):
        msg = f"{where} must be a table"
        raise UsageError(msg)
    unknown = set(data) - {f.name for f in fields(CustomRule)}
    if unknown:
        msg = f"{where}: unknown key(s) {', '.join(sorted(unknown))}"
        raise UsageError(msg)
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        msg = f"{where}: name must be lower-case letters, digits and _ (it becomes the flag_<name> column)"
        raise UsageError(msg)
    if name in BUILTIN_FLAGS:
        msg = f"{where}: {name!r} is a built-in flag; give the rule another name"
        raise UsageError(msg)
    text_field = data.get("field", "output")
    if text_field not in RULE_FIELDS:
        msg = f"{where}: field must be one of {', '.join(RULE_FIELDS)}"
        raise UsageError(msg)
    regex = data.get("regex")
    if regex is not None:
        if not isinstance(regex, str):
            msg = f"{where}: regex must be a string"
            raise UsageError(msg)
        _check_regex(regex, where)
    contains = _strings(data.get("contains", []), f"{where}.contains")
    lengths = {k: data.get(k) for k in ("min_chars", "max_chars")}
    for key, value in lengths.items():
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            msg = f"{where}: {key} must be a whole number >= 0"
            raise UsageError(msg)
    if regex is None and not contains and lengths["min_chars"] is None and lengths["max_chars"] is None:
        msg = f"{where}: give at least one of regex, contains, min_chars, max_chars"
        raise UsageError(msg)
    routes = _strings(data.get("routes", []), f"{where}.routes")
    return CustomRule(name, text_field, regex, contains, lengths["min_chars"], lengths["max_chars"], routes)


def parse_quality_config(data: dict[str, Any], origin: str) -> QualityConfig:
    """`[quality]` of a config file -> QualityConfig; every mistake is one UsageError naming the file."""
    where = f"{origin}: [quality]"
    unknown = set(data) - {f.name for f in fields(QualityConfig)}
    if unknown:
        msg = f"{where} has unknown key(s) {', '.join(sorted(unknown))}"
        raise UsageError(msg)
    values: dict[str, Any] = {}
    for key in _NUMBERS & set(data):
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            msg = f"{where} {key} must be a number >= 0"
            raise UsageError(msg)
        values[key] = value
    if "refusal_phrases" in data:
        phrases = _strings(data["refusal_phrases"], f"{where} refusal_phrases")
        for phrase in phrases:
            _check_regex(phrase, f"{where} refusal_phrases")
        values["refusal_phrases"] = phrases
    if "json_routes" in data:
        values["json_routes"] = _strings(data["json_routes"], f"{where} json_routes")
    rules = data.get("rules", [])
    if not isinstance(rules, list):
        msg = f"{where} rules must be an array of tables ([[quality.rules]])"
        raise UsageError(msg)
    parsed = tuple(_rule(rule, f"{where} rules[{i}]") for i, rule in enumerate(rules))
    names = [r.name for r in parsed]
    if len(set(names)) != len(names):
        msg = f"{where} rules: two rules have the same name"
        raise UsageError(msg)
    values["rules"] = parsed
    return QualityConfig(**values)
