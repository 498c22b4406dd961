"""Which field of a log line feeds which canonical column, and how its times and errors are read.

Applications spell the same thing differently (`request_id`, `trace_id`, `x_request_id`; `latency_ms`,
`duration` in seconds; `usage.prompt_tokens`). A `FieldMapping` lists, for each canonical column, the
source paths to try in order; the first one present on a line wins. Users put their own paths first
with `--map canonical=path` (repeat it for fallbacks) or `[mapping]` in aiobs.toml (a string or a list).

A path is dotted (`usage.prompt_tokens`); a number or `[n]` indexes an array (`choices.0.message.content`
or `choices[0].message.content`); `["log.level"]` is a key that itself contains dots (Elastic's flat
keys). `:s`, `:ms`, `:us` or `:ns` after a numeric path gives its unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from aiobs.errors import UsageError, did_you_mean

#: Where a path came from, in the order they are tried: the user's `--map`, aiobs.toml, the format's own.
ORIGINS = ("option", "config", "format")


@dataclass(frozen=True)
class SourcePath:
    """A path into a log line (keys and array indexes), the factor that converts its unit to ours, and its origin."""

    parts: tuple[str | int, ...]
    scale: float = 1.0
    origin: str = "format"
    #: The unit is a guess (`duration` read as seconds): a summary says so wherever it fills a value.
    assumed: bool = False

    @property
    def path(self) -> str:
        """The path as a user writes it: `usage.prompt_tokens`, `choices[0].message.content`, `["log.level"]`."""
        text = ""
        for part in self.parts:
            if isinstance(part, int):
                text += f"[{part}]"
            elif "." in part or not part:
                text += f'["{part}"]'
            else:
                text += f".{part}" if text else part
        return text

    @property
    def head(self) -> str:
        """The top-level key the path starts at."""
        return str(self.parts[0])


#: Deeper than any log nests: the reader's schema is a struct per level, and Polars' is recursive.
MAX_PATH_PARTS = 32
_SEGMENT = re.compile(r"""\[\s*(\d+)\s*\]|\[\s*"([^"]*)"\s*\]|\[\s*'([^']*)'\s*\]|([^.\[\]"']+)""")


def parse_path(text: str) -> tuple[str | int, ...]:
    """`a.b[0]["c.d"]` -> `("a", "b", 0, "c.d")`; raises ValueError on anything else."""
    parts: list[str | int] = []
    at, need_separator = 0, False
    text = text.strip()
    while at < len(text):
        if need_separator:
            if text[at] == ".":
                at += 1
            elif text[at] != "[":
                raise ValueError(text)
        match = _SEGMENT.match(text, at)
        if match is None:
            raise ValueError(text)
        index, double, single, name = match.groups()
        if index is not None:
            parts.append(int(index))
        elif name is not None:
            parts.append(int(name) if name.isdigit() else name)
        else:
            parts.append(double if double is not None else single)
        at, need_separator = match.end(), True
    if not parts or isinstance(parts[0], int) or text.endswith(".") or len(parts) > MAX_PATH_PARTS:
        raise ValueError(text)
    return tuple(parts)


def _paths(*specs: str | tuple[str, float]) -> tuple[SourcePath, ...]:
    return tuple(SourcePath(parse_path(s)) if isinstance(s, str) else SourcePath(parse_path(s[0]), s[1]) for s in specs)


#: Canonical columns a mapping can fill, besides `source` and `line` which come from the reader.
#: `end` is a timestamp that marks when the event ended; `status`, `level`, `http_status` and `error`
#: feed `is_error` (docs/formats.md, "Errors by convention").
MAPPABLE: tuple[str, ...] = (
    "correlation_id",
    "event_id",
    "parent_id",
    "event",
    "is_root",
    "start",
    "end",
    "duration_ms",
    "ttft_ms",
    "model",
    "provider",
    "route",
    "user",
    "status",
    "level",
    "http_status",
    "error",
    "error_type",
    "attempt",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "logged_cost_usd",
    "finish_reason",
    "input_text",
    "output_text",
    "response_format",
    "max_tokens",
    "context_text",
    "feedback_score",
)

DEFAULT_PATHS: dict[str, tuple[SourcePath, ...]] = {
    "correlation_id": _paths("request_id", "correlation_id", "trace_id", "x_request_id", "requestId", "traceId"),
    "event_id": _paths("event_id", "span_id", "spanId"),
    "parent_id": _paths("parent_id", "parent_span_id", "parentSpanId"),
    "event": _paths("event", "event_type", "stage", "type", "kind"),
    "is_root": _paths("is_root", "root"),
    "start": _paths("ts", "timestamp", "start_time", "time", "@timestamp", "startTime", "created_at"),
    "end": _paths("end_time", "endTime", "ended_at"),
    "duration_ms": (
        *_paths("latency_ms", "duration_ms", "elapsed_ms", "took_ms"),
        SourcePath(("duration",), 1000.0, assumed=True),  # as Python's time.perf_counter() differences are
        *_paths(("latency_s", 1000.0)),
    ),
    "ttft_ms": _paths("ttft_ms", "time_to_first_token_ms", ("ttft_s", 1000.0)),
    "model": _paths("model", "model_name", "model_id"),
    "provider": _paths("provider", "model_provider", "vendor"),
    "route": _paths("route", "endpoint", "path"),
    "user": _paths("user_id", "user", "tenant_id", "tenant"),
    "status": _paths("status", "outcome"),
    "level": _paths("level", "levelname", "severity", "log_level"),
    "http_status": _paths("status_code", "http_status", "statusCode", "http_status_code"),
    "error": _paths("error", "err", "exception", "exc_info"),
    "error_type": _paths("error_type", "error_code"),
    "attempt": _paths("attempt", "retry_attempt"),
    "input_tokens": _paths("input_tokens", "prompt_tokens", "usage.input_tokens", "usage.prompt_tokens"),
    "output_tokens": _paths("output_tokens", "completion_tokens", "usage.output_tokens", "usage.completion_tokens"),
    "cached_tokens": _paths(
        "cached_tokens",
        "cache_read_tokens",
        "usage.prompt_tokens_details.cached_tokens",
        "usage.input_tokens_details.cached_tokens",
        "usage.cache_read_input_tokens",
    ),
    "cache_write_tokens": _paths("cache_write_tokens", "cache_creation_tokens"),
    "reasoning_tokens": _paths(
        "reasoning_tokens",
        "usage.completion_tokens_details.reasoning_tokens",
        "usage.output_tokens_details.reasoning_tokens",
    ),
    "logged_cost_usd": _paths("cost_usd", "cost", "response_cost"),
    "finish_reason": _paths("finish_reason", "stop_reason"),
    "input_text": _paths("input", "prompt", "input_text", "query", "question"),
    "output_text": _paths("output", "response", "completion", "output_text", "answer"),
    "response_format": _paths("response_format"),
    "max_tokens": _paths("max_tokens", "max_output_tokens", "max_completion_tokens"),
    "context_text": _paths("context", "documents", "context_text", "retrieved"),
    "feedback_score": _paths("feedback_score", "feedback", "thumbs", "user_feedback"),
}

#: Scale factors a user can ask for with `--map duration_ms=took:s`.
UNIT_SCALES = {"ms": 1.0, "s": 1000.0, "us": 0.001, "ns": 0.000001}
#: What `--time-is` accepts: whether a line's timestamp is when its event started or when it was written (ended).
TIME_IS = ("start", "end")
#: HTTP statuses from this one up are errors; `--http-error-from 400` counts client errors (4xx) too.
HTTP_ERROR_FROM = 500


@dataclass(frozen=True)
class FieldMapping:
    """The format's own paths per canonical field, the user's paths tried before them, and how times and
    errors are read.

    `time_is` None means "as the format says" (docs/formats.md): the native format's timestamp is the
    start, a logger's is the moment the line was written, i.e. the end of an event that carries a duration.
    """

    paths: dict[str, tuple[SourcePath, ...]] = field(default_factory=lambda: dict(DEFAULT_PATHS))
    overrides: dict[str, tuple[SourcePath, ...]] = field(default_factory=dict)
    time_is: str | None = None
    time_format: str | None = None
    #: The IANA zone of timestamps written without one (None: UTC).
    timezone: str | None = None
    http_error_from: int = HTTP_ERROR_FROM

    def with_overrides(self, overrides: dict[str, list[str]] | dict[str, str], origin: str = "option") -> FieldMapping:
        """User paths go first, in the order given, so they win over the format's, which still apply where the
        user's fields are absent. Overrides added later (the command line after aiobs.toml) go before earlier ones."""
        merged = dict(self.overrides)
        for canonical, specs in overrides.items():
            listed = [specs] if isinstance(specs, str) else list(specs)
            added = tuple(replace(parse_source_path(canonical, s), origin=origin) for s in listed)
            merged[canonical] = (*added, *merged.get(canonical, ()))
        return replace(self, overrides=merged)

    def with_paths(self, paths: dict[str, tuple[SourcePath, ...]]) -> FieldMapping:
        """This mapping with the format's own paths replaced for the fields in `paths` (a logger preset's)."""
        return replace(self, paths={**self.paths, **paths})

    def without(self, canonical: tuple[str, ...]) -> FieldMapping:
        """The mapping with these canonical fields unmapped (left null), so their source fields are not parsed."""
        return replace(
            self,
            paths={n: p for n, p in self.paths.items() if n not in canonical},
            overrides={n: p for n, p in self.overrides.items() if n not in canonical},
        )

    def resolved(self, time_is: str = "start") -> dict[str, tuple[SourcePath, ...]]:
        """Canonical field -> every path to try, the user's first.

        With the time meaning "end" (`time_is`, unless the user said otherwise) the timestamp paths feed
        `end`: an event with a duration then spans [timestamp - duration, timestamp].
        """
        paths = {name: (*self.overrides.get(name, ()), *self.paths.get(name, ())) for name in MAPPABLE}
        if (self.time_is or time_is) == "end":
            paths["end"], paths["start"] = (*paths["start"], *paths["end"]), ()
        return {name: found for name, found in paths.items() if found}

    def all_paths(self, time_is: str = "start") -> list[SourcePath]:
        return [p for ps in self.resolved(time_is).values() for p in ps]


def parse_source_path(canonical: str, spec: str) -> SourcePath:
    """`usage.prompt_tokens`, `choices[0].message.content`, `took:s` for `canonical`; a UsageError otherwise."""
    if canonical not in MAPPABLE:
        msg = f"cannot map '{canonical}'{did_you_mean(canonical, MAPPABLE)} (known fields: {', '.join(MAPPABLE)})"
        raise UsageError(msg)
    path, unit = spec.strip(), ""
    head, sep, tail = path.rpartition(":")
    if sep and re.fullmatch(r"[A-Za-z]*", tail):
        path, unit = head, tail
    if unit and unit not in UNIT_SCALES:
        msg = f"unknown unit '{unit}' in '{spec}': use one of {', '.join(UNIT_SCALES)}"
        raise UsageError(msg)
    try:
        parts = parse_path(path)
    except ValueError:
        shown = spec if len(spec) <= 60 else spec[:60] + "…"
        msg = (
            f"invalid field path '{shown}' for {canonical}: use a dotted path such as usage.prompt_tokens, "
            f'choices[0].message.content or ["log.level"], at most {MAX_PATH_PARTS} levels deep'
        )
        raise UsageError(msg) from None
    return SourcePath(parts, UNIT_SCALES[unit] if unit else 1.0)


def parse_map_options(options: list[str]) -> dict[str, list[str]]:
    """`["correlation_id=meta.rid", "correlation_id=ctx.id"]` -> `{"correlation_id": ["meta.rid", "ctx.id"]}`.

    A field given more than once lists fallbacks, tried in the order given.
    """
    result: dict[str, list[str]] = {}
    for option in options:
        canonical, sep, spec = option.partition("=")
        if not sep:
            msg = f"--map expects canonical=field.path, got '{option}'"
            raise UsageError(msg)
        parse_source_path(canonical.strip(), spec)
        result.setdefault(canonical.strip(), []).append(spec.strip())
    return result


def check_time_is(value: str | None) -> str | None:
    if value is None:
        return None
    key = value.strip().lower()
    if key not in TIME_IS:
        msg = f"--time-is must be start or end, not '{value}'"
        raise UsageError(msg)
    return key


def check_http_error_from(value: int) -> int:
    if not 100 <= value <= 599:
        msg = f"--http-error-from must be an HTTP status from 100 to 599 (400 counts 4xx as errors), not {value}"
        raise UsageError(msg)
    return value
