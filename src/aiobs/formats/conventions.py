"""How logs say an event failed, what stage it was, and how long it took: the conventions, as expressions.

Errors (docs/formats.md, "Errors by convention"); the first rule that holds names the event's `error_rule`:

| rule | the event failed when |
|---|---|
| `status` | its status is a failure word (error, failed, failure, exception, fatal, timeout, ...) |
| `http-status` | its HTTP status (or a numeric status) is 500 or more (`--http-error-from 400` adds 4xx) |
| `level` | its log level is error, fatal, critical, alert, emergency or panic (any case), or >= 50 (Pino) |
| `error-field` | it carries an error: `error`, `err`, `exception`, `exc_info` (text or object), or an error type |
| `event` | its event is named `error` |
"""

from __future__ import annotations

import polars as pl

ERROR_STATUS_WORDS = ("error", "failed", "failure", "fail", "exception", "fatal", "critical", "timeout")
ERROR_LEVELS = ("error", "err", "fatal", "critical", "crit", "alert", "emerg", "emergency", "panic", "dpanic", "severe")
#: Pino and Bunyan: 50 is error, 60 fatal.
NUMERIC_ERROR_LEVEL = 50
#: An error field holding one of these says "no error".
NO_ERROR_WORDS = ("", "0", "false", "none", "null", "no", "{}", "[]", "nil")
#: Rule names, in the order they are tried.
ERROR_RULES = ("status", "http-status", "level", "error-field", "event")
#: What each rule means, for summaries ("format": an adapter read the format's own status field).
RULE_TITLES = {
    "status": "a failure status word",
    "http-status": "an HTTP error status",
    "level": "an error log level",
    "error-field": "an error field",
    "event": "an event named error",
    "format": "the format's own status",
}

#: Message keywords -> stage, for logger formats whose `event` is free text ("llm call finished").
STAGE_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("embedding", r"embed"),
    ("rerank", r"rerank"),
    ("retrieval", r"retriev|vector|similarity|knn|search|lookup"),
    ("tool", r"\btool|function[ _]call"),
    ("llm", r"\bllm|completion|\bchat\b|generat|inference|\bmodel\b|openai|anthropic|gemini|bedrock"),
)


def truthy(raw: pl.Expr) -> pl.Expr:
    """Present and not a word for "no" (null stays null)."""
    return raw.str.strip_chars().str.to_lowercase().is_in(NO_ERROR_WORDS).not_()


def word(raw: pl.Expr) -> pl.Expr:
    """Text as the rules compare it: stripped and lower-cased (computed once per column by the reader)."""
    return raw.str.strip_chars().str.to_lowercase()


def error_rules(
    status_word: pl.Expr | None,
    level_word: pl.Expr | None,
    http_status: pl.Expr | None,
    errors: list[pl.Expr],
    event_word: pl.Expr | None,
    http_error_from: int,
) -> dict[str, pl.Expr]:
    """rule name -> whether it marks the event failed (never null). `*_word` arguments are `word()`s; an
    argument the logs do not have is None (or no error field at all), and its rule is simply false: each
    rule costs a pass over the column, so logs pay only for the fields they carry."""
    false = pl.lit(False)
    codes = [e.cast(pl.Float64, strict=False) for e in (http_status, status_word) if e is not None]
    return {
        "status": status_word.is_in(ERROR_STATUS_WORDS).fill_null(False) if status_word is not None else false,
        "http-status": (pl.coalesce(codes) >= http_error_from).fill_null(False) if codes else false,
        "level": (
            (
                level_word.is_in(ERROR_LEVELS) | (level_word.cast(pl.Float64, strict=False) >= NUMERIC_ERROR_LEVEL)
            ).fill_null(False)
            if level_word is not None
            else false
        ),
        "error-field": pl.any_horizontal(truthy(e).fill_null(False) for e in errors) if errors else false,
        "event": (event_word == "error").fill_null(False) if event_word is not None else false,
    }


def first_rule(rules: dict[str, pl.Expr]) -> pl.Expr:
    """The name of the first rule that holds, else null."""
    expr = pl.lit(None, dtype=pl.String)
    for name in reversed(ERROR_RULES):
        expr = pl.when(rules[name]).then(pl.lit(name)).otherwise(expr)
    return expr


def error_type_of(error: pl.Expr) -> pl.Expr:
    """The error's class from what was logged as the error: `type`/`name`/`code` of a JSON object (Pino's
    `err`, loguru's `exception`), the raised exception's `exc_type` of structlog's `dict_tracebacks` (a list
    of stacks, the raised one first, then its causes), the exception named on a traceback's last line,
    else the text itself."""
    text = error.str.strip_chars()
    is_object = text.str.starts_with("{")
    from_object = pl.coalesce(
        text.str.json_path_match("$.type"),
        text.str.json_path_match("$.name"),
        text.str.json_path_match("$.code"),
    )
    from_stacks = pl.when(text.str.starts_with("[")).then(text.str.json_path_match("$[0].exc_type"))
    # A traceback: 'Traceback (most recent call last): ... ValueError: boom' -> ValueError
    from_traceback = text.str.extract(r"(?s).*\n([A-Za-z_][\w.]*)(?::|\s*$)", 1)
    plain = pl.when(text.str.contains("Traceback (most recent call last)", literal=True)).then(from_traceback)
    first_line = text.str.split("\n").list.first().str.slice(0, 120)
    otherwise = pl.coalesce(from_stacks, plain, first_line)
    return pl.when(truthy(error)).then(pl.when(is_object).then(from_object).otherwise(otherwise))


def stage_from_message(message: pl.Expr, *, has_model_usage: pl.Expr) -> pl.Expr:
    """The stage a free-text log message names, by keyword; a line with a model and token counts is an LLM call."""
    text = message.str.to_lowercase()
    expr: pl.Expr = pl.when(has_model_usage).then(pl.lit("llm")).otherwise(pl.lit("other"))
    for stage, pattern in reversed(STAGE_KEYWORDS):
        expr = pl.when(text.str.contains(pattern).fill_null(False)).then(pl.lit(stage)).otherwise(expr)
    return expr


_GO_UNITS_MS = {"h": 3_600_000.0, "m": 60_000.0, "s": 1000.0, "ms": 1.0, "us": 0.001, "µs": 0.001, "ns": 0.000001}
_GO_PART = r"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)"


def duration_text_ms(raw: pl.Expr) -> pl.Expr:
    """A duration written with its unit (`1.5s`, `250ms`, `1m2.5s`: Go's time.Duration text, zap's
    development encoder) in milliseconds; null when the text is not such a duration."""
    text = raw.str.strip_chars()
    whole = text.str.contains(rf"^(?:{_GO_PART})+$")
    parts = text.str.extract_all(_GO_PART)
    total = parts.list.eval(
        pl.element().str.extract(r"^([0-9]*\.?[0-9]+)", 1).cast(pl.Float64)
        * pl.element().str.extract(r"(ns|us|µs|ms|s|m|h)$", 1).replace_strict(_GO_UNITS_MS, return_dtype=pl.Float64)
    ).list.sum()
    return pl.when(whole).then(total)
