"""Presets for the JSON that common application loggers write: paths and conventions on the native reader.

A preset is data, not code: which keys hold the timestamp, level, message, HTTP status, duration and error
for that logger, and whether its timestamp is the event's start or the moment the line was written (a
logger stamps a line when it writes it, so an event that carries a duration ended at its timestamp). The
application's own fields (request_id, model, tokens, ...) are read with the native format's default paths,
which every preset keeps for the fields it does not name. docs/formats.md shows each logger's lines.

`detect(row)` says whether a parsed line looks like that logger's; `aiobs.formats.detect` votes with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiobs.formats.mapping import DEFAULT_PATHS, SourcePath, _paths

Row = dict[str, Any]
#: Stage names of the native format; a structlog `event` is a message, so it is none of these.
NATIVE_EVENT_NAMES = frozenset(
    {"gateway", "embedding", "retrieval", "rerank", "llm", "tool", "other", "request", "root", "http", "embed"}
    | {"retrieve", "vector_search", "search", "chat", "completion", "generation", "llm_call", "tool_call", "feedback"}
)


@dataclass(frozen=True)
class Preset:
    """How one logger's lines map to canonical events (`paths` replace the defaults for the fields they name)."""

    name: str
    reads: str
    #: The library documentation the shape follows (fixtures name it too).
    doc: str
    paths: dict[str, tuple[SourcePath, ...]] = field(default_factory=dict)
    #: "end": a line's timestamp is when it was written, so an event with a duration spans [ts - duration, ts].
    time_is: str = "end"
    #: The event name is a free-text message: the stage comes from its keywords, and a line with an HTTP
    #: status and a duration (an access log line, "request completed") is the request's root.
    message_events: bool = True
    detect: Callable[[Row], bool] = field(default=lambda row: False, repr=False)
    aliases: tuple[str, ...] = ()


def _under(prefix: tuple[str, ...], paths: dict[str, tuple[SourcePath, ...]]) -> dict[str, tuple[SourcePath, ...]]:
    """Every path moved under `prefix` (loguru keeps the application's fields in `record.extra`)."""
    return {name: tuple(SourcePath((*prefix, *p.parts), p.scale) for p in ps) for name, ps in paths.items()}


def _level_name(row: Row) -> str:
    level = row.get("level")
    return level.split("+")[0].split("-")[0] if isinstance(level, str) else ""


def _is_structlog(row: Row) -> bool:
    event = row.get("event")
    return (
        isinstance(event, str)
        and "level" in row
        and event.strip().lower() not in NATIVE_EVENT_NAMES
        and not ({"msg", "message", "levelname", "record"} & row.keys())
    )


def _is_pino(row: Row) -> bool:
    level = row.get("level")
    return isinstance(level, int) and "time" in row and ("msg" in row or "pid" in row) and "v" not in row


def _is_bunyan(row: Row) -> bool:
    return isinstance(row.get("level"), int) and "v" in row and "name" in row and "hostname" in row


def _is_python_json(row: Row) -> bool:
    return "levelname" in row or ("asctime" in row and "message" in row)


def _is_loguru(row: Row) -> bool:
    record = row.get("record")
    return isinstance(record, dict) and "text" in row and "level" in record


def _is_winston(row: Row) -> bool:
    level = row.get("level")
    return (
        isinstance(level, str)
        and level.islower()
        and "message" in row
        and "time" not in row
        and ("timestamp" in row or "durationMs" in row)
    )


def _is_slog(row: Row) -> bool:
    return "time" in row and "msg" in row and _level_name(row) in {"DEBUG", "INFO", "WARN", "ERROR"}


def _is_zap(row: Row) -> bool:
    return "ts" in row and "msg" in row and isinstance(row.get("level"), str) and "event" not in row


def _is_zerolog(row: Row) -> bool:
    level = row.get("level")
    return isinstance(level, str) and level.islower() and "time" in row and "message" in row


def _is_ecs(row: Row) -> bool:
    nested_log = isinstance(row.get("log"), dict)
    return "@timestamp" in row and ("ecs.version" in row or "ecs" in row or "log.level" in row or nested_log)


_NANOS, _SECONDS = 0.000001, 1000.0
_ERRORS = _paths("error", "err", "exception", "exc_info")

PRESETS: tuple[Preset, ...] = (
    Preset(
        "loguru",
        "loguru with serialize=True (everything under `record`; your fields in `record.extra`)",
        "https://loguru.readthedocs.io/en/stable/api/logger.html#record (serialize=True)",
        {
            **_under(("record", "extra"), DEFAULT_PATHS),
            "start": _paths("record.time.timestamp", "record.time.repr"),
            "end": (),
            "level": _paths("record.level.name"),
            "event": _paths("record.message"),
            "error": _paths("record.exception"),
        },
        detect=_is_loguru,
    ),
    Preset(
        "ecs",
        "Elastic Common Schema / Logstash JSON (`@timestamp`, `log.level`, `trace.id`, `event.duration` in ns)",
        "https://www.elastic.co/guide/en/ecs/current/ecs-field-reference.html and ecs-logging",
        {
            "correlation_id": _paths(
                '["trace.id"]', "trace.id", '["transaction.id"]', "transaction.id", "request_id", "correlation_id"
            ),
            "event_id": _paths('["span.id"]', "span.id"),
            "start": _paths("@timestamp"),
            "end": (),
            "duration_ms": _paths(('["event.duration"]', _NANOS), ("event.duration", _NANOS), "duration_ms"),
            "level": _paths('["log.level"]', "log.level"),
            "http_status": _paths('["http.response.status_code"]', "http.response.status_code", "status_code"),
            "route": _paths('["url.path"]', "url.path", "route"),
            "status": _paths('["event.outcome"]', "event.outcome"),
            "error": _paths('["error.message"]', "error.message", '["error.type"]', "error.type"),
            "error_type": _paths('["error.type"]', "error.type"),
            "user": _paths('["user.id"]', "user.id", "user_id"),
            "event": _paths("message"),
        },
        detect=_is_ecs,
        aliases=("logstash", "elastic"),
    ),
    Preset(
        "bunyan",
        "Bunyan (`v`, `name`, numeric `level`, `msg`, ISO `time`, restify's `req_id` and `latency`)",
        "https://github.com/trentm/node-bunyan#core-fields",
        {
            "correlation_id": _paths("req_id", "reqId", "request_id", "req.id", "correlation_id", "trace_id"),
            "start": _paths("time"),
            "end": (),
            "event": _paths("msg"),
            "level": _paths("level"),
            "http_status": _paths("res.statusCode", "statusCode", "status_code"),
            "duration_ms": _paths("latency", "responseTime", "duration_ms", "latency_ms"),
            "route": _paths("req.url", "route"),
            "error": _paths("err", "error"),
        },
        detect=_is_bunyan,
    ),
    Preset(
        "pino",
        "Pino and Fastify (epoch-ms `time`, numeric `level`, `msg`, `reqId`, `responseTime`, `req`/`res`/`err`)",
        "https://getpino.io/#/docs/api?id=logger and https://fastify.dev/docs/latest/Reference/Logging/",
        {
            "correlation_id": _paths("reqId", "req.id", "req_id", "request_id", "requestId", "trace_id"),
            "start": _paths("time"),
            "end": (),
            "event": _paths("msg"),
            "level": _paths("level"),
            "http_status": _paths("res.statusCode", "statusCode", "status_code"),
            "duration_ms": _paths("responseTime", "duration_ms", "latency_ms", "elapsed_ms"),
            "route": _paths("req.url", "route", "url"),
            "error": _paths("err", "error"),
        },
        detect=_is_pino,
        aliases=("fastify", "pino-http"),
    ),
    Preset(
        "python-json-logger",
        "python-json-logger and Python logging JSON formatters (`asctime` with comma ms, `levelname`, `message`)",
        "https://nhairs.github.io/python-json-logger/latest/quickstart/",
        {
            "start": _paths("asctime", "timestamp", "created", "time"),
            "end": (),
            "level": _paths("levelname", "level"),
            "event": _paths("message", "msg"),
            "error": _paths("exc_info", "exception", "error", "exc_text"),
        },
        detect=_is_python_json,
        aliases=("python", "python-logging"),
    ),
    Preset(
        "zap",
        "Go zap (`ts` in epoch seconds, `level`, `msg`, `caller`; durations in seconds or as text like 1.5s)",
        "https://pkg.go.dev/go.uber.org/zap#NewProductionEncoderConfig",
        {
            "start": _paths("ts", "time"),
            "end": (),
            "event": _paths("msg"),
            "duration_ms": _paths(
                ("duration", _SECONDS), ("latency", _SECONDS), ("elapsed", _SECONDS), "duration_ms", "latency_ms"
            ),
            "error": _paths("error", "errorVerbose"),
        },
        detect=_is_zap,
    ),
    Preset(
        "slog",
        "Go log/slog JSONHandler (`time` RFC 3339, upper-case `level`, `msg`; durations in nanoseconds)",
        "https://pkg.go.dev/log/slog#JSONHandler",
        {
            "start": _paths("time"),
            "end": (),
            "event": _paths("msg"),
            "duration_ms": _paths(
                ("duration", _NANOS), ("latency", _NANOS), ("elapsed", _NANOS), "duration_ms", "latency_ms"
            ),
            "error": _paths("err", "error"),
        },
        detect=_is_slog,
    ),
    Preset(
        "zerolog",
        "Go zerolog (`time`, `level`, `message`; durations in milliseconds)",
        "https://pkg.go.dev/github.com/rs/zerolog#readme-standard-types",
        {
            "start": _paths("time"),
            "end": (),
            "event": _paths("message"),
            "duration_ms": _paths("dur", "duration", "latency", "elapsed", "duration_ms", "latency_ms"),
            "error": _paths("error", "stack"),
        },
        detect=_is_zerolog,
    ),
    Preset(
        "winston",
        "winston's json format (`level`, `message`, `timestamp`, the profiler's `durationMs`)",
        "https://github.com/winstonjs/winston#formats and #profiling",
        {
            "start": _paths("timestamp"),
            "end": (),
            "event": _paths("message"),
            "duration_ms": _paths("durationMs", "duration_ms", "latency_ms", "responseTime"),
            "error": _paths("error", "err", "stack"),
        },
        detect=_is_winston,
    ),
    Preset(
        "structlog",
        "structlog's JSONRenderer (`event` is the message, `level`, `timestamp` ISO or epoch, bound IDs)",
        "https://www.structlog.org/en/stable/api.html#structlog.processors.JSONRenderer",
        {
            "start": _paths("timestamp", "ts", "time"),
            "end": (),
            "event": _paths("event"),
            "level": _paths("level"),
            "error": _paths("exception", "exc_info", "error"),
        },
        detect=_is_structlog,
    ),
)

#: aiobs's own format: the timestamp is the event's start and `event` names the stage (docs/schema.md).
NATIVE = Preset(
    "native",
    "aiobs's own JSONL (any field names, through the field mapping)",
    "docs/schema.md",
    time_is="start",
    message_events=False,
)

PRESET_BY_NAME: dict[str, Preset] = {p.name: p for p in (NATIVE, *PRESETS)}
PRESET_ALIASES: dict[str, str] = {alias: p.name for p in PRESETS for alias in p.aliases}
