"""The same requests written by each application logger, in the shape its documentation shows.

A `Request` is what happened (route, start, total duration, HTTP status, one LLM call); each writer turns a
list of them into the lines that logger writes for an app that logs "request started", "llm call" and
"request finished" (with its duration and status), the way a FastAPI / Express / Go service does. The
Python loggers are the real libraries (structlog, python-json-logger, loguru, ecs-logging) on a clock held
by time-machine; Pino, Bunyan and winston lines come from tests/fixtures/node/make_fixtures.mjs (the real
packages); zap, slog and zerolog are written here after their documentation (no Go toolchain on CI).

`python tests/formats/logger_writers.py` rewrites the fixtures of the Python and Go loggers.
"""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
#: The LLM call starts this long after the request.
LLM_DELAY_MS = 20.0


@dataclass(frozen=True)
class Llm:
    model: str
    duration_ms: float
    input_tokens: int | None
    output_tokens: int | None
    error: str | None = None


@dataclass(frozen=True)
class Request:
    rid: str
    route: str
    start: datetime
    total_ms: float
    status: int
    llm: Llm | None

    @property
    def end(self) -> datetime:
        return self.start + timedelta(milliseconds=self.total_ms)

    @property
    def llm_end(self) -> datetime:
        assert self.llm is not None
        return self.start + timedelta(milliseconds=LLM_DELAY_MS + self.llm.duration_ms)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


#: The requests every fixture holds (hand-computed figures in test_loggers.py).
SCENARIO: tuple[Request, ...] = (
    Request("r-1", "/chat", at(0), 1545.0, 200, Llm("gpt-4o", 1200.0, 100, 50)),
    Request("r-2", "/chat", at(2), 9226.0, 200, Llm("gpt-4o-mini", 9000.0, 2000, 800)),
    Request("r-3", "/rag", at(3), 812.5, 500, Llm("gpt-4o", 700.0, None, None, error="RateLimitError")),
    Request("r-4", "/rag", at(5), 2300.0, 200, Llm("claude-sonnet-4-5", 2100.0, 1500, 300)),
    Request("r-5", "/chat", at(9), 120.0, 404, None),
    Request("r-6", "/chat", at(10), 3100.0, 200, Llm("gpt-4o", 3000.0, 400, 250)),
)

Writer = Callable[[list[Request]], bytes]


def _events(requests: list[Request]) -> Iterator[tuple[datetime, str, Request]]:
    """(when the line is written, which line, request), in time order, as a log file holds them."""
    lines = []
    for r in requests:
        lines.append((r.start, "started", r))
        if r.llm is not None:
            lines.append((r.llm_end, "llm", r))
        lines.append((r.end, "finished", r))
    return iter(sorted(lines, key=lambda t: (t[0], t[2].rid)))


def _llm_fields(llm: Llm) -> dict[str, Any]:
    fields: dict[str, Any] = {"model": llm.model, "duration_ms": llm.duration_ms}
    if llm.input_tokens is not None:
        fields["input_tokens"] = llm.input_tokens
    if llm.output_tokens is not None:
        fields["output_tokens"] = llm.output_tokens
    return fields


def _raise(name: str) -> None:
    raise type(name, (Exception,), {})("429 Too Many Requests")


# -- the native format: the reference every logger must agree with -------------------------------------


def native(requests: list[Request]) -> bytes:
    rows = []
    for r in requests:
        rows.append(
            {
                "ts": r.start.isoformat(),
                "request_id": r.rid,
                "event": "gateway",
                "route": r.route,
                "status": r.status,
                "latency_ms": r.total_ms,
            }
        )
        if r.llm is not None:
            llm = {**_llm_fields(r.llm), "latency_ms": r.llm.duration_ms}
            del llm["duration_ms"]
            start = r.start + timedelta(milliseconds=LLM_DELAY_MS)
            status = {"status": "error", "error_type": r.llm.error} if r.llm.error else {"status": "ok"}
            rows.append({"ts": start.isoformat(), "request_id": r.rid, "event": "llm", **llm, **status})
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


# -- Python loggers: the real libraries ------------------------------------------------------------------


@contextmanager
def _clock(when: datetime) -> Iterator[None]:
    import time_machine

    with time_machine.travel(when, tick=False):
        yield


def structlog_lines(requests: list[Request]) -> bytes:
    """structlog with JSONRenderer, TimeStamper(fmt="iso"), add_log_level, contextvars (its docs' recipe)."""
    import structlog

    out = io.StringIO()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    log = structlog.get_logger()
    for when, kind, r in _events(requests):
        with _clock(when):
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(request_id=r.rid)
            if kind == "started":
                log.info("request started", route=r.route, method="POST")
            elif kind == "llm" and r.llm is not None and r.llm.error:
                try:
                    _raise(r.llm.error)
                except Exception:
                    log.exception("llm call failed", **_llm_fields(r.llm))
            elif kind == "llm" and r.llm is not None:
                log.info("llm call", **_llm_fields(r.llm))
            else:
                level = log.error if r.status >= 500 else log.info
                level("request finished", status_code=r.status, duration_ms=r.total_ms)
    structlog.reset_defaults()
    return out.getvalue().encode()


def _stdlib_lines(requests: list[Request], formatter: logging.Formatter, extra_of: Callable[..., dict]) -> bytes:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    log = logging.getLogger("app")
    log.propagate = False
    log.handlers = [handler]
    log.setLevel(logging.INFO)
    for when, kind, r in _events(requests):
        with _clock(when):
            if kind == "started":
                log.info("request started", extra=extra_of(r, route=r.route, method="POST"))
            elif kind == "llm" and r.llm is not None and r.llm.error:
                try:
                    _raise(r.llm.error)
                except Exception:
                    log.exception("llm call failed", extra=extra_of(r, **_llm_fields(r.llm)))
            elif kind == "llm" and r.llm is not None:
                log.info("llm call", extra=extra_of(r, **_llm_fields(r.llm)))
            else:
                level = log.error if r.status >= 500 else log.info
                level("request finished", extra=extra_of(r, status_code=r.status, duration_ms=r.total_ms))
    return out.getvalue().encode()


def python_json_lines(requests: list[Request]) -> bytes:
    """python-json-logger's JsonFormatter with the format string its quickstart shows."""
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    return _stdlib_lines(requests, formatter, lambda r, **f: {"request_id": r.rid, **f})


def ecs_lines(requests: list[Request]) -> bytes:
    """ecs-logging's StdlibFormatter; the app puts ECS names in `extra` (trace.id, event.duration in ns, ...)."""
    import ecs_logging

    def extra(r: Request, **fields: Any) -> dict[str, Any]:
        if "status_code" in fields:
            fields["http.response.status_code"] = fields.pop("status_code")
            fields["event.duration"] = round(fields.pop("duration_ms") * 1_000_000)
        if "route" in fields:
            fields["url.path"] = fields.pop("route")
            fields["http.request.method"] = fields.pop("method")
        return {"trace.id": r.rid, **fields}

    return _stdlib_lines(requests, ecs_logging.StdlibFormatter(), extra)


def loguru_lines(requests: list[Request]) -> bytes:
    """loguru with serialize=True; the app's fields are bound with logger.bind (record.extra)."""
    from loguru import logger

    out = io.StringIO()
    logger.remove()
    sink = logger.add(out, serialize=True)
    try:
        for when, kind, r in _events(requests):
            bound = logger.bind(request_id=r.rid)
            with _clock(when):
                if kind == "started":
                    bound.bind(route=r.route, method="POST").info("request started")
                elif kind == "llm" and r.llm is not None and r.llm.error:
                    try:
                        _raise(r.llm.error)
                    except Exception:
                        bound.bind(**_llm_fields(r.llm)).exception("llm call failed")
                elif kind == "llm" and r.llm is not None:
                    bound.bind(**_llm_fields(r.llm)).info("llm call")
                else:
                    level = "ERROR" if r.status >= 500 else "INFO"
                    bound.bind(status_code=r.status, duration_ms=r.total_ms).log(level, "request finished")
    finally:
        logger.remove(sink)
        logger.add(sys.stderr)
    return out.getvalue().encode()


# -- Go loggers, after their documentation ---------------------------------------------------------------


def _go_lines(requests: list[Request], line: Callable[[datetime, str, str, dict[str, Any]], dict]) -> bytes:
    rows = []
    for when, kind, r in _events(requests):
        if kind == "started":
            rows.append(line(when, "info", "request started", {"request_id": r.rid, "route": r.route}))
        elif kind == "llm" and r.llm is not None:
            fields = {"request_id": r.rid, **_llm_fields(r.llm)}
            if r.llm.error:
                fields["error"] = f"{r.llm.error}: 429 Too Many Requests"
            rows.append(line(when, "error" if r.llm.error else "info", "llm call", fields))
        else:
            fields = {"request_id": r.rid, "status": r.status, "duration_ms": r.total_ms}
            rows.append(line(when, "error" if r.status >= 500 else "info", "request finished", fields))
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


def _seconds(when: datetime) -> float:
    return round(when.timestamp(), 6)


def zap_lines(requests: list[Request]) -> bytes:
    """zap's production JSON encoder: `ts` epoch seconds, `caller`, durations (zap.Duration) in seconds."""

    def line(when: datetime, level: str, msg: str, fields: dict[str, Any]) -> dict[str, Any]:
        if "duration_ms" in fields:
            fields["duration"] = fields.pop("duration_ms") / 1000
        return {"level": level, "ts": _seconds(when), "caller": "server/handler.go:57", "msg": msg, **fields}

    return _go_lines(requests, line)


def slog_lines(requests: list[Request]) -> bytes:
    """log/slog's JSONHandler: RFC 3339 `time` with nanoseconds, upper-case `level`, durations in ns."""

    def line(when: datetime, level: str, msg: str, fields: dict[str, Any]) -> dict[str, Any]:
        if "duration_ms" in fields:
            fields["duration"] = round(fields.pop("duration_ms") * 1_000_000)
        time = when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
        return {"time": time, "level": level.upper(), "msg": msg, **fields}

    return _go_lines(requests, line)


def zerolog_lines(requests: list[Request]) -> bytes:
    """zerolog with TimeFieldFormat = TimeFormatUnixMs; Dur() in milliseconds (its default unit)."""

    def line(when: datetime, level: str, msg: str, fields: dict[str, Any]) -> dict[str, Any]:
        if "duration_ms" in fields:
            fields["dur"] = fields.pop("duration_ms")
        return {"level": level, **fields, "time": round(when.timestamp() * 1000), "message": msg}

    return _go_lines(requests, line)


PYTHON_WRITERS: dict[str, Writer] = {
    "structlog": structlog_lines,
    "python-json-logger": python_json_lines,
    "loguru": loguru_lines,
    "ecs": ecs_lines,
}
GO_WRITERS: dict[str, Writer] = {"zap": zap_lines, "slog": slog_lines, "zerolog": zerolog_lines}
WRITERS: dict[str, Writer] = {**PYTHON_WRITERS, **GO_WRITERS}


def scenario_json() -> str:
    """The scenario for the Node fixture script."""
    return json.dumps(
        [
            {
                "rid": r.rid,
                "route": r.route,
                "start_ms": r.start.timestamp() * 1000,
                "total_ms": r.total_ms,
                "status": r.status,
                "llm": None if r.llm is None else vars(r.llm),
                "llm_delay_ms": LLM_DELAY_MS,
            }
            for r in SCENARIO
        ],
        indent=1,
    )


if __name__ == "__main__":
    for name, writer in WRITERS.items():
        (FIXTURES / name).mkdir(parents=True, exist_ok=True)
        (FIXTURES / name / "scenario.jsonl").write_bytes(writer(list(SCENARIO)))
    (FIXTURES / "node" / "scenario.json").write_text(scenario_json() + "\n")
