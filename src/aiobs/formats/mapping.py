"""Which field of a log line feeds which canonical column.

Applications spell the same thing differently (`request_id`, `trace_id`,
`x_request_id`; `latency_ms`, `duration` in seconds; `usage.prompt_tokens`).
A `FieldMapping` lists, for each canonical column, the source paths to try in
order; the first one present on a line wins. Users extend or replace the list
with `--map canonical=path` or `[mapping]` in aiobs.toml.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiobs.errors import UsageError


@dataclass(frozen=True)
class SourcePath:
    """A dotted path into a log line, and the factor that converts its unit to ours."""

    path: str
    scale: float = 1.0

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))


def _paths(*specs: str | tuple[str, float]) -> tuple[SourcePath, ...]:
    return tuple(SourcePath(s) if isinstance(s, str) else SourcePath(*s) for s in specs)


#: Canonical columns a mapping can fill, besides `source` and `line` which come from the reader.
#: `status` feeds `is_error`.
MAPPABLE: tuple[str, ...] = (
    "correlation_id",
    "event_id",
    "parent_id",
    "event",
    "is_root",
    "start",
    "duration_ms",
    "ttft_ms",
    "model",
    "provider",
    "route",
    "user",
    "status",
    "error_type",
    "attempt",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
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
    "duration_ms": _paths(
        "latency_ms", "duration_ms", "elapsed_ms", "took_ms", ("duration", 1000.0), ("latency_s", 1000.0)
    ),
    "ttft_ms": _paths("ttft_ms", "time_to_first_token_ms", ("ttft_s", 1000.0)),
    "model": _paths("model", "model_name", "model_id"),
    "provider": _paths("provider", "model_provider", "vendor"),
    "route": _paths("route", "endpoint", "path"),
    "user": _paths("user_id", "user", "tenant_id", "tenant"),
    "status": _paths("status", "status_code", "http_status", "level"),
    "error_type": _paths("error_type", "error_code", "error"),
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


@dataclass(frozen=True)
class FieldMapping:
    paths: dict[str, tuple[SourcePath, ...]] = field(default_factory=lambda: dict(DEFAULT_PATHS))

    def with_overrides(self, overrides: dict[str, str]) -> FieldMapping:
        """User paths go first, so they win over the defaults, which still apply where the user's field is absent."""
        paths = dict(self.paths)
        for canonical, spec in overrides.items():
            paths[canonical] = (parse_source_path(canonical, spec), *paths.get(canonical, ()))
        return FieldMapping(paths)

    def without(self, canonical: tuple[str, ...]) -> FieldMapping:
        """The mapping with these canonical fields unmapped (left null), so their source fields are not parsed."""
        return FieldMapping({name: paths for name, paths in self.paths.items() if name not in canonical})

    def all_paths(self) -> list[SourcePath]:
        return [p for ps in self.paths.values() for p in ps]


def parse_source_path(canonical: str, spec: str) -> SourcePath:
    if canonical not in MAPPABLE:
        msg = f"cannot map '{canonical}': known fields are {', '.join(MAPPABLE)}"
        raise UsageError(msg)
    path, _, unit = spec.strip().partition(":")
    if not path or any(not part for part in path.split(".")):
        msg = f"invalid field path '{spec}' for {canonical}: use a dotted path such as usage.prompt_tokens"
        raise UsageError(msg)
    if unit and unit not in UNIT_SCALES:
        msg = f"unknown unit '{unit}' in '{spec}': use one of {', '.join(UNIT_SCALES)}"
        raise UsageError(msg)
    return SourcePath(path, UNIT_SCALES[unit] if unit else 1.0)


def parse_map_options(options: list[str]) -> dict[str, str]:
    """`["correlation_id=meta.rid", ...]` -> `{"correlation_id": "meta.rid"}`."""
    result: dict[str, str] = {}
    for option in options:
        canonical, sep, spec = option.partition("=")
        if not sep:
            msg = f"--map expects canonical=field.path, got '{option}'"
            raise UsageError(msg)
        parse_source_path(canonical.strip(), spec)
        result[canonical.strip()] = spec.strip()
    return result
