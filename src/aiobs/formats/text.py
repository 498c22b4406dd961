"""Readable text out of logged messages, as Polars expressions that never fail on odd input.

Formats log prompts and answers as JSON in many shapes: OTel GenAI parts
(`[{"role":"user","parts":[{"type":"text","content":"…"}]}]`), OpenAI messages (`[{"role":"user",
"content":"…"}]`, or content as a list of `{"type":"text","text":"…"}`), Bedrock Converse
(`{"messages":[{"content":[{"text":"…"}]}]}`), OTLP AnyValue trees (`{"kvlistValue":{"values":[{"key":
"content","value":{"stringValue":"…"}}]}}`). Decoding each with a schema fails on the first row of
another shape (`str.json_decode` is strict), so instead the text is taken from the *flat* JSON objects
inside the value (objects with no nested object: message parts and simple messages are such objects):
their `content` or `text` member, unless their `type` says the part is not text (reasoning, tool calls,
images). The pattern knows JSON strings, so braces inside text do not confuse it.
"""

from __future__ import annotations

import polars as pl

_STRING = r'"(?:[^"\\]|\\.)*"'
#: A JSON object whose members are scalars, strings, empty objects or arrays of scalars (`"annotations":
#: []`), but no nested object with members; strings may hold anything (escaped quotes, braces).
FLAT_OBJECT = rf'\{{(?:[^{{}}\[\]"]|{_STRING}|\[(?:[^{{}}\[\]"]|{_STRING})*\]|\{{\s*\}})*\}}'
#: Part types that carry the text of a message (none at all: a plain `{"role":..,"content":".."}`).
TEXT_PART_TYPES = ("text", "input_text", "output_text")
#: An OTLP AnyValue key/value pair whose key is `content` or `text`, and its string value.
_ANYVALUE_TEXT = (
    r'"key"\s*:\s*"(?:content|text)"\s*,\s*"value"\s*:\s*\{\s*"stringValue"\s*:\s*'
    r'"(?:[^"\\]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
)
_STRING_VALUE = r'"stringValue"\s*:\s*("(?:[^"\\]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")'


def _flat_object_text(obj: pl.Expr, text_types: tuple[str, ...]) -> pl.Expr:
    kind = obj.str.json_path_match("$.type")
    text = pl.coalesce(obj.str.json_path_match("$.content"), obj.str.json_path_match("$.text"))
    return pl.when(kind.is_null() | kind.is_in(text_types)).then(text)


def message_text(
    expr: pl.Expr,
    *,
    fallback_paths: tuple[str, ...] = (),
    separator: str = "\n",
    text_types: tuple[str, ...] = TEXT_PART_TYPES,
) -> pl.Expr:
    """The text of messages logged as JSON (any shape above), joined by newlines; plain text as it is.

    `fallback_paths` (`$.prompt`, `$.generation`, ...) are tried when no message object holds text.
    Streamed chunks are joined with `separator=""` (and their delta part types passed in `text_types`).
    """
    text = expr.str.strip_chars()
    is_json = text.str.starts_with("[") | text.str.starts_with("{")
    parts = text.str.extract_all(FLAT_OBJECT).list.eval(_flat_object_text(pl.element(), text_types).drop_nulls())
    joined = parts.list.join(separator)
    found = pl.when(joined != "").then(joined)
    if fallback_paths:
        found = pl.coalesce(found, *(text.str.json_path_match(p) for p in fallback_paths))
    # A JSON string literal (an input logged as json.dumps("question")) is its decoded text.
    quoted = text.str.starts_with('"') & text.str.ends_with('"') & (text.str.len_chars() > 1)
    plain = pl.when(quoted).then(pl.coalesce(text.str.json_path_match("$"), text)).otherwise(text)
    return pl.when(is_json).then(found).otherwise(pl.when(text != "").then(plain))


def anyvalue_text(expr: pl.Expr) -> pl.Expr:
    """The text of an OTLP AnyValue read as JSON text: its `content`/`text` strings, else its stringValue.

    A stringValue that itself holds JSON messages (an event body or attribute logged as a JSON string)
    is read with `message_text`.
    """
    pieces = expr.str.extract_all(_ANYVALUE_TEXT).list.eval(
        pl.element().str.extract(_STRING_VALUE, 1).str.json_decode(pl.String)
    )
    joined = pieces.list.join("\n")
    string_value = expr.str.json_path_match("$.stringValue")
    return pl.coalesce(pl.when(joined != "").then(joined), message_text(string_value))


def anyvalue_scalar(expr: pl.Expr) -> pl.Expr:
    """An OTLP AnyValue read as JSON text -> its scalar as text (first element of an array)."""
    return pl.coalesce(
        *(expr.str.json_path_match(f"$.{kind}") for kind in ("stringValue", "intValue", "doubleValue", "boolValue")),
        expr.str.json_path_match("$.arrayValue.values[0].stringValue"),
    )
