"""Project configuration: `aiobs.toml`, or `[tool.aiobs]` in pyproject.toml.

```toml
[mapping]                      # canonical field = path in your logs (":s" for seconds), or a list of fallbacks
correlation_id = ["meta.request", "ctx.rid"]
duration_ms = "timing.total:s"

[input]                        # how to read the logs (docs/formats.md)
format = "structlog"           # instead of detecting each file's format
time_is = "end"                # a line's timestamp is when its event ended (start: when it began)
time_format = "%d/%b/%Y:%H:%M:%S %z"   # strftime, for timestamps no built-in form reads
http_error_from = 400          # HTTP statuses from this one up are errors (default 500)
max_line_mb = 64               # longer lines are left out as line-too-long (bounds memory on hostile input)

[pricing]
prices = "prices.toml"         # extra or overriding model prices

[quality]                      # flag thresholds and custom rules (docs/quality.md)
max_output_chars = 6000

[engine]                       # where the reading runs (docs/scale-out.md)
name = "ray"                   # local (default) or ray
ray_address = "ray://head:10001"   # default: RAY_ADDRESS, or a local Ray started for the run

[slo]                          # name = SLO expression (docs/ci.md); `aiobs check` evaluates them
latency = "p95(latency_ms) < 3000"
errors = "error_rate < 1%"
max_regression = ["p95=10%", "error_rate=1pp"]   # gates against --baseline
confidence = 0.95
```
Command-line options win over the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiobs.errors import UsageError, did_you_mean
from aiobs.formats.mapping import HTTP_ERROR_FROM, check_http_error_from, check_time_is, parse_source_path
from aiobs.formats.timestamps import check_time_format, check_timezone
from aiobs.gates.expressions import ExpressionError, parse_gate, parse_slo
from aiobs.quality.config import QualityConfig, parse_quality_config
from aiobs.sources.read import MAX_LINE_BYTES

#: The sections of aiobs.toml (and of [tool.aiobs] in pyproject.toml).
SECTIONS = ("mapping", "input", "pricing", "slo", "quality", "report", "engine")


@dataclass(frozen=True)
class Config:
    mapping: dict[str, list[str]] = field(default_factory=dict)
    input_format: str | None = None
    time_is: str | None = None
    time_format: str | None = None
    timezone: str | None = None
    http_error_from: int = HTTP_ERROR_FROM
    max_line_bytes: int = MAX_LINE_BYTES
    prices: Path | None = None
    quality: QualityConfig = field(default_factory=QualityConfig)
    origin: Path | None = None
    #: (name, expression) of each SLO in [slo], checked when the file is read.
    slos: tuple[tuple[str, str], ...] = ()
    max_regression: tuple[str, ...] = ()
    confidence: float | None = None
    engine: str | None = None
    ray_address: str | None = None


def _table(data: dict[str, Any], key: str, origin: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        msg = f"{origin}: [{key}] must be a table"
        raise UsageError(msg)
    return value


def _parse(data: dict[str, Any], origin: Path) -> Config:
    unknown = set(data) - set(SECTIONS)
    if unknown:
        first = sorted(unknown)[0]
        hint = did_you_mean(first, SECTIONS)
        msg = f"{origin}: unknown section(s) {', '.join(sorted(unknown))}{hint} (known: {', '.join(SECTIONS)})"
        raise UsageError(msg)
    mapping = _mapping_section(_table(data, "mapping", origin), origin)
    reading = _input_section(_table(data, "input", origin), origin)
    pricing = _table(data, "pricing", origin)
    prices = pricing.get("prices")
    if prices is not None and not isinstance(prices, str):
        msg = f"{origin}: pricing.prices must be a file path"
        raise UsageError(msg)
    slos, gates, confidence = _slo_section(_table(data, "slo", origin), origin)
    quality = parse_quality_config(_table(data, "quality", origin), str(origin))
    engine = _engine_section(_table(data, "engine", origin), origin)
    return Config(
        mapping=mapping,
        input_format=reading.get("format"),
        time_is=reading.get("time_is"),
        time_format=reading.get("time_format"),
        timezone=reading.get("timezone"),
        http_error_from=reading["http_error_from"],
        max_line_bytes=reading["max_line_mb"] << 20,
        prices=(origin.parent / prices) if prices else None,
        quality=quality,
        origin=origin,
        slos=slos,
        max_regression=gates,
        confidence=confidence,
        engine=engine.get("name"),
        ray_address=engine.get("ray_address"),
    )


def _engine_section(section: dict[str, Any], origin: Path) -> dict[str, str]:
    """[engine]: `name` (local or ray) and `ray_address`, both strings."""
    known = ("name", "ray_address")
    unknown = sorted(set(section) - set(known))
    if unknown:
        msg = f"{origin}: unknown key engine.{unknown[0]}{did_you_mean(unknown[0], known)} (known: {', '.join(known)})"
        raise UsageError(msg)
    for key in known:
        if key in section and not isinstance(section[key], str):
            raise UsageError(f"{origin}: engine.{key} must be a string")
    if section.get("name", "local").strip().lower() not in ("local", "ray"):
        raise UsageError(f"{origin}: engine.name must be local or ray, not '{section['name']}'")
    return section


def _mapping_section(section: dict[str, Any], origin: Path) -> dict[str, list[str]]:
    """[mapping]: `field = "path"` or `field = ["path", "fallback", ...]`, each path checked now."""
    mapping: dict[str, list[str]] = {}
    for canonical, spec in section.items():
        specs = [spec] if isinstance(spec, str) else spec
        if not isinstance(specs, list) or not specs or not all(isinstance(s, str) for s in specs):
            msg = f'{origin}: mapping.{canonical} must be a path or a list of paths, e.g. ["request_id", "ctx.rid"]'
            raise UsageError(msg)
        for one in specs:
            try:
                parse_source_path(canonical, one)
            except UsageError as exc:
                raise UsageError(f"{origin}: mapping.{canonical}: {exc}") from None
        mapping[canonical] = list(specs)
    return mapping


def _input_section(section: dict[str, Any], origin: Path) -> dict[str, Any]:
    """[input]: format, time_is, time_format, timezone, http_error_from, each checked as its command-line
    option is; max_line_mb."""
    known = ("format", "time_is", "time_format", "timezone", "http_error_from", "max_line_mb")
    unknown = sorted(set(section) - set(known))
    if unknown:
        msg = f"{origin}: unknown key input.{unknown[0]}{did_you_mean(unknown[0], known)} (known: {', '.join(known)})"
        raise UsageError(msg)
    for key in ("format", "time_is", "time_format", "timezone"):
        if key in section and not isinstance(section[key], str):
            raise UsageError(f"{origin}: input.{key} must be a string")
    http = section.get("http_error_from", HTTP_ERROR_FROM)
    if isinstance(http, bool) or not isinstance(http, int):
        raise UsageError(f"{origin}: input.http_error_from must be a whole number such as 400 or 500")
    max_line_mb = section.get("max_line_mb", MAX_LINE_BYTES >> 20)
    if isinstance(max_line_mb, bool) or not isinstance(max_line_mb, int) or not 1 <= max_line_mb <= 2048:
        raise UsageError(f"{origin}: input.max_line_mb must be a whole number of megabytes from 1 to 2048")
    try:
        check_time_is(section.get("time_is"))
        check_time_format(section.get("time_format"))
        check_timezone(section.get("timezone"))
        check_http_error_from(http)
    except UsageError as exc:
        raise UsageError(f"{origin}: [input]: {exc}") from None
    return {**section, "http_error_from": http, "max_line_mb": max_line_mb}


def _slo_section(
    section: dict[str, Any], origin: Path
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], float | None]:
    """[slo]: `name = "expression"` per SLO, plus `max_regression` (a list of gates) and `confidence`."""
    slos: list[tuple[str, str]] = []
    gates = section.get("max_regression", [])
    if not isinstance(gates, list) or not all(isinstance(g, str) for g in gates):
        msg = f'{origin}: slo.max_regression must be a list of gates, e.g. ["p95=10%", "error_rate=1pp"]'
        raise UsageError(msg)
    confidence = section.get("confidence")
    if confidence is not None and (not isinstance(confidence, float | int) or not 0.5 <= confidence < 1):
        msg = f"{origin}: slo.confidence must be a number from 0.5 to 0.999 (e.g. 0.95)"
        raise UsageError(msg)
    for name, text in section.items():
        if name in ("max_regression", "confidence"):
            continue
        if not isinstance(text, str):
            msg = f'{origin}: slo.{name} must be an expression in quotes, e.g. {name} = "p95(latency_ms) < 3000"'
            raise UsageError(msg)
        slos.append((name, text))
    checks: list[tuple[str, str, Callable[[str], object]]] = [
        *((f"slo.{n}", t, parse_slo) for n, t in slos),
        *(("slo.max_regression", g, parse_gate) for g in gates),
    ]
    for where, text, parse in checks:
        try:
            parse(text)
        except ExpressionError as exc:
            msg = f"{origin}: {where}: {exc}"
            raise UsageError(msg) from None
    return tuple(slos), tuple(gates), float(confidence) if confidence is not None else None


def load_config(path: Path | None = None, *, cwd: Path | None = None) -> Config:
    """The given file, else ./aiobs.toml, else [tool.aiobs] of ./pyproject.toml, else defaults."""
    if path is not None:
        if not path.is_file():
            msg = f"config file is not a regular file: {path}" if path.exists() else f"config file not found: {path}"
            raise UsageError(msg)
        return _parse(_read_toml(path), path)
    here = cwd or Path.cwd()
    if (here / "aiobs.toml").is_file():
        return _parse(_read_toml(here / "aiobs.toml"), here / "aiobs.toml")
    pyproject = here / "pyproject.toml"
    if pyproject.is_file():
        tool = _read_toml(pyproject).get("tool", {}).get("aiobs")
        if isinstance(tool, dict):
            return _parse(tool, pyproject)
    return Config()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path} is not valid TOML: {exc}"
        raise UsageError(msg) from exc
