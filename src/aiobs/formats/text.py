"""Readable text out of logged messages, as Polars expressions that never fail on odd input.

Formats log prompts and answers as JSON in many shapes: OTel GenAI parts
(`[{"role":"user","parts":[{"type":"text","content":"…"}]}]`), OpenAI messages (`[{"role":"user",
"content":"…"}]`, or content as a list of `{"type":"text","text":"…"}`), Bedrock Converse
(`{"messages":[{"content":[{"text":"…"}]}]}`), OTLP AnyValue trees (`{"kvlistValue":{"values":[{"key":
"content","value":{"stringValue":"…"}}]}}`). Decoding each with a schema fails on the first row of
another shape (`str.json_decode` is strict and raises), so instead the text is taken from the *flat*
JSON objects inside the value (objects with no nested object: message parts and simple messages are
such objects): their `content` or `text` member, unless their `type` says the part is not text
(reasoning, tool calls, images). The patterns know JSON strings, so braces inside text do not confuse
them.

The text is first repaired (`repair_json`) for a second reason: Polars renders a nested object read as
a String column without escaping backslashes or control characters (`{"s": "a\\b"}` for the JSON
`"a\\\\b"`), which no JSON parser accepts. The repair leaves proper JSON as it is and makes such
renderings valid (a literal backslash before `n`, `r` or `"` cannot be told from an escape there), once
per value, so the members can then be read by Polars' fast JSON path reader.
"""

from __future__ import annotations

import polars as pl

#: A JSON string literal, quotes included.
STRING = r'"(?:[^"\\]|\\.)*"'
#: A JSON object whose members are scalars, strings, empty objects or arrays of scalars (`"annotations":
#: []`), but no nested object with members.
FLAT_OBJECT = rf'\{{(?:[^{{}}\[\]"]|{STRING}|\[(?:[^{{}}\[\]"]|{STRING})*\]|\{{\s*\}})*\}}'
#: Part types that carry the text of a message (none at all: a plain `{"role":..,"content":".."}`).
TEXT_PART_TYPES = ("text", "input_text", "output_text")
#: An OTLP AnyValue pair whose key is `content` or `text`, rendered as JSON text.
ANYVALUE_TEXT = rf'"key"\s*:\s*"(?:content|text)"\s*,\s*"value"\s*:\s*\{{\s*"stringValue"\s*:\s*{STRING}'

# Private-use characters stand in for escapes while lone backslashes are doubled.
_BACKSLASH, _ESCAPE, _UNICODE = "\ue000", "\ue001", "\ue002"
#: Raw control characters other than newline and carriage return (JSON whitespace between tokens, and
#: escaped by Polars inside strings): a tab as `\t`, the rest as `\u00XX`.
_CONTROL = [chr(i) for i in range(32) if chr(i) not in "\n\r"]
_CONTROL_ESCAPES = ["\\t" if c == "\t" else f"\\u{ord(c):04x}" for c in _CONTROL]


def repair_json(text: pl.Expr) -> pl.Expr:
    """JSON text with lone backslashes doubled and raw control characters escaped; proper JSON unchanged.

    Escapes are found left to right (`\\\\` first, so an escaped backslash never starts another escape).
    """
    step = text.str.replace_all("\\\\", _BACKSLASH, literal=True)
    step = step.str.replace_all(r'\\(["/bfnrt])', _ESCAPE + "${1}")
    step = step.str.replace_all(r"\\u([0-9a-fA-F]{4})", _UNICODE + "${1}")
    step = step.str.replace_all("\\", "\\\\", literal=True)
    step = step.str.replace_many([_BACKSLASH, _ESCAPE, _UNICODE], ["\\\\", "\\", "\\u"])
    return step.str.replace_many(_CONTROL, _CONTROL_ESCAPES)


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
    Polars does not share subexpressions here (list.eval blocks it), so each costly step appears once and
    runs on its rows only: others are masked to null first, which the string functions skip.
    """
    raw = expr.str.strip_chars()
    is_json = raw.str.starts_with("[") | raw.str.starts_with("{")
    # Only elementwise expressions inside list.eval: those run once over all elements (drop_nulls there
    # would run once per row, 100x slower).
    objects = repair_json(pl.when(is_json).then(raw)).str.extract_all(FLAT_OBJECT)
    found = objects.list.eval(_flat_object_text(pl.element(), text_types)).list.drop_nulls().list.join(separator)
    found = found.replace("", None)
    if fallback_paths:
        json_only = pl.when(is_json).then(raw)
        found = pl.coalesce(found, *(json_only.str.json_path_match(p) for p in fallback_paths))
    # A JSON string literal (an input logged as json.dumps("question")) is its decoded text.
    quoted = raw.str.starts_with('"') & raw.str.ends_with('"') & (raw.str.len_chars() > 1)
    decoded = pl.when(quoted).then(raw).str.json_path_match("$")
    plain = pl.coalesce(decoded, raw).replace("", None)
    return pl.when(is_json).then(found).otherwise(plain)


def rendered_anyvalue_text(expr: pl.Expr) -> pl.Expr:
    """The `content`/`text` strings of an OTLP AnyValue tree given as JSON text, joined by newlines."""
    pieces = repair_json(expr).str.extract_all(ANYVALUE_TEXT)
    texts = pieces.list.eval(
        pl.element().str.extract(rf'"stringValue"\s*:\s*({STRING})\s*$', 1).str.json_path_match("$")
    )
    joined = texts.list.drop_nulls().list.join("\n")
    return pl.when(joined != "").then(joined)
