"""Quality flags: deterministic checks of each request's answer, as Polars expressions on the request table.

Every flag is a Boolean column `flag_<name>` that is **null where the flag does not apply** (no output
was logged, the request asked for no JSON, there was no retrieved context, ...), so a rate is the share
of flagged requests among those where the check could run, never diluted by requests it says nothing
about. Definitions and thresholds: docs/quality.md; thresholds come from `QualityConfig`.
"""

from __future__ import annotations

import polars as pl

from aiobs.pii import has_pii
from aiobs.quality.config import BUILTIN_FLAGS, CustomRule, QualityConfig
from aiobs.quality.phrases import REFUSAL_PATTERNS, REFUSAL_WINDOW

FLAG_PREFIX = "flag_"
TRUNCATION_REASONS = ("length", "max_tokens", "max_output_tokens", "token_limit", "max_tokens_reached")
JSON_FORMATS = ("json_object", "json_schema", "json")
#: Characters a complete answer may end with (after trailing whitespace).
SENTENCE_END = r"[.!?。！？…\"'”’)\]}`*]\s*$"
#: Repetition is looked for in this many characters at the end of the answer.
REPETITION_WINDOW = 2000
#: Context utilisation samples this many snippets of this many characters from the answer.
CONTEXT_PROBES = 6
CONTEXT_PROBE_CHARS = 12
URL = r"https?://[^\s<>\"'`)\]}]+[^\s<>\"'`)\]},.;:!?]"

#: One line per built-in flag, as summaries and reports show it (full definitions: docs/quality.md).
FLAG_DESCRIPTIONS: dict[str, str] = {
    "error": "the request failed",
    "retried": "some call was retried",
    "empty": "the answer is empty",
    "too_short": "the answer is shorter than min_output_chars",
    "too_long": "the answer is longer than max_output_chars",
    "refusal": "the answer opens with a refusal",
    "truncated": "generation stopped at the token limit",
    "invalid_json": "JSON was asked for and the answer does not parse",
    "repetition": "the answer loops (a snippet repeats 4+ times)",
    "pii_in_input": "personal data or a secret in the input",
    "pii_in_output": "personal data or a secret in the answer",
    "context_unused": "the answer barely overlaps the retrieved context",
    "ungrounded_url": "the answer links a URL found in neither context nor input",
    "slow_generation": "decoding slower than slow_tokens_per_s",
}

_output = pl.col("output_text")
_input = pl.col("input_text")
_context = pl.col("context_text")


def flag_column(name: str) -> str:
    return f"{FLAG_PREFIX}{name}"


def flag_names(config: QualityConfig | None = None) -> list[str]:
    """Built-in flags, then the config's custom rules."""
    return [*BUILTIN_FLAGS, *(rule.name for rule in (config or QualityConfig()).rules)]


def _has_output() -> pl.Expr:
    # Searching for one non-blank character stops at the first one; stripping would copy every answer.
    return _output.str.contains(r"\S")


def _refusal(config: QualityConfig) -> pl.Expr:
    pattern = "(?i)" + "|".join(f"(?:{p})" for p in (*REFUSAL_PATTERNS, *config.refusal_phrases))
    return _output.str.head(REFUSAL_WINDOW).str.contains(pattern)


def _truncated() -> pl.Expr:
    reason = pl.col("finish_reason").str.to_lowercase().str.strip_chars()
    by_reason = reason.is_in(TRUNCATION_REASONS)
    at_limit = pl.col("output_tokens") >= pl.col("max_tokens")
    mid_sentence = _output.str.contains(SENTENCE_END).not_()
    # Known when a finish reason was logged, or when both the limit and the output are.
    known = reason.is_not_null() | (at_limit.is_not_null() & _output.is_not_null())
    return pl.when(known).then(by_reason.fill_null(False) | (at_limit & mid_sentence).fill_null(False))


def _invalid_json(config: QualityConfig) -> pl.Expr:
    wants_json = pl.col("response_format").str.to_lowercase().is_in(JSON_FORMATS).fill_null(False)
    if config.json_routes:
        wants_json = wants_json | pl.col("route").is_in(config.json_routes).fill_null(False)
    # json_path_match("$") is null for text that does not parse (and for a bare `null`).
    parses = _output.str.strip_chars().str.json_path_match("$").is_not_null()
    return pl.when(wants_json & _output.is_not_null()).then(parses.not_())


def _repetition(config: QualityConfig) -> pl.Expr:
    """The answer loops: a snippet from its end occurs again and again in its last part.

    A degenerate decoder repeats a phrase until the token limit, so its tail is inside the loop.
    Counting one snippet with a substring search over the last `REPETITION_WINDOW` characters costs a
    fraction of word n-grams, and bounds the cost of very long answers.
    """
    n = config.repetition_snippet_chars
    window = _output.str.tail(REPETITION_WINDOW)
    snippet = window.str.slice(-(n + 8), n)  # a few characters before the very end: skip a final "..."
    repeats = window.str.count_matches(snippet, literal=True)
    return pl.when(_output.str.len_bytes() >= config.repetition_min_bytes).then(
        repeats >= config.repetition_min_repeats
    )


def context_utilisation(probes: int = CONTEXT_PROBES, probe_chars: int = CONTEXT_PROBE_CHARS) -> pl.Expr:
    """Share of snippets of the answer, taken at evenly spaced places, that occur verbatim in the context.

    Null without both an answer of a few words and a context. A lexical overlap measure that costs a
    few substring searches per request instead of splitting both texts into words (10x the time).
    """
    length = _output.str.len_chars()
    found = [
        _context.str.contains(_output.str.slice((length * k // probes).cast(pl.Int64), probe_chars), literal=True)
        for k in range(probes)
    ]
    return pl.when(_context.is_not_null() & (length >= 3 * probe_chars)).then(pl.mean_horizontal(found))


def _ungrounded_url() -> pl.Expr:
    """The answer links a URL that appears in neither the retrieved context nor the input.

    The first and the last URL of the answer are looked up (most answers cite one or two): a substring
    search per URL, instead of extracting every URL from the context, which costs ten times more.
    """
    urls = _output.str.extract_all(URL)
    sources = [_context.fill_null(""), _input.fill_null("")]

    def grounded(url: pl.Expr) -> pl.Expr:
        return pl.any_horizontal(source.str.contains(url, literal=True) for source in sources)

    missing = grounded(urls.list.first()).not_() | grounded(urls.list.last()).not_()
    return pl.when(urls.list.len() > 0).then(missing)


def _slow_generation(config: QualityConfig) -> pl.Expr:
    seconds = pl.col("llm_output_ms") / 1000.0
    tokens = pl.col("output_tokens")
    applies = (tokens >= config.slow_min_output_tokens) & (seconds > 0)
    return pl.when(applies).then(tokens / seconds < config.slow_tokens_per_s)


def _length_flags(config: QualityConfig) -> dict[str, pl.Expr]:
    chars = _output.str.len_chars()
    tokens = pl.col("output_tokens")
    answered = _has_output() & (pl.col("finish_reason").fill_null("") != "tool_calls")
    too_short = chars < config.min_output_chars
    if config.min_output_tokens is not None:
        too_short = too_short | (tokens < config.min_output_tokens).fill_null(False)
    too_long = chars > config.max_output_chars
    if config.max_output_tokens is not None:
        too_long = too_long | (tokens > config.max_output_tokens).fill_null(False)
    return {"too_short": pl.when(answered).then(too_short), "too_long": pl.when(answered).then(too_long)}


def _custom(rule: CustomRule) -> pl.Expr:
    text = _output if rule.field == "output" else _input
    hits: list[pl.Expr] = []
    if rule.regex is not None:
        hits.append(text.str.contains(rule.regex))
    if rule.contains:
        hits.append(text.str.to_lowercase().str.contains_any([c.lower() for c in rule.contains]))
    if rule.min_chars is not None:
        hits.append(text.str.len_chars() < rule.min_chars)
    if rule.max_chars is not None:
        hits.append(text.str.len_chars() > rule.max_chars)
    applies = text.is_not_null()
    if rule.routes:
        applies = applies & pl.col("route").is_in(rule.routes).fill_null(False)
    return pl.when(applies).then(pl.any_horizontal(hits))


def flag_expressions(config: QualityConfig | None = None) -> dict[str, pl.Expr]:
    """`flag_<name>` -> its expression over request columns, built-in flags first.

    `context_unused` reads the `context_utilisation` column, which `add_flags` computes first (once:
    its substring searches are a sixth of the flags' cost).
    """
    config = config or QualityConfig()
    empty_known = (_output.is_not_null() | pl.col("output_tokens").is_not_null()) & pl.col("is_error").not_()
    empty = _output.str.contains(r"\S").not_().fill_null(False) | (pl.col("output_tokens") == 0).fill_null(False)
    flags: dict[str, pl.Expr] = {
        "error": pl.col("is_error"),
        "retried": pl.col("retries") > 0,
        "empty": pl.when(empty_known).then(empty),
        **_length_flags(config),
        "refusal": pl.when(_has_output()).then(_refusal(config)),
        "truncated": _truncated(),
        "invalid_json": _invalid_json(config),
        "repetition": _repetition(config),
        "pii_in_input": has_pii(_input),
        "pii_in_output": has_pii(_output),
        "context_unused": pl.when(_has_output()).then(pl.col("context_utilisation") < config.context_min_overlap),
        "ungrounded_url": _ungrounded_url(),
        "slow_generation": _slow_generation(config),
    }
    flags.update({rule.name: _custom(rule) for rule in config.rules})
    return {flag_column(name): expr.cast(pl.Boolean) for name, expr in flags.items()}


def add_flags(requests: pl.LazyFrame | pl.DataFrame, config: QualityConfig | None = None) -> pl.LazyFrame:
    """The request table plus `context_utilisation` and one `flag_<name>` column per flag."""
    scored = requests.lazy().with_columns(context_utilisation=context_utilisation())
    return scored.with_columns(**flag_expressions(config))
