"""Project configuration: `aiobs.toml`, or `[tool.aiobs]` in pyproject.toml.

```toml
[mapping]                      # canonical field = path in your logs (":s" for seconds)
correlation_id = "meta.request"
duration_ms = "timing.total:s"

[pricing]
prices = "prices.toml"         # extra or overriding model prices

[quality]                      # flag thresholds and custom rules (docs/quality.md)
max_output_chars = 6000

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiobs.errors import UsageError
from aiobs.formats.mapping import parse_source_path
from aiobs.gates.expressions import ExpressionError, parse_gate, parse_slo
from aiobs.quality.config import QualityConfig, parse_quality_config


@dataclass(frozen=True)
class Config:
    mapping: dict[str, str] = field(default_factory=dict)
    prices: Path | None = None
    quality: QualityConfig = field(default_factory=QualityConfig)
    origin: Path | None = None
    #: (name, expression) of each SLO in [slo], checked when the file is read.
    slos: tuple[tuple[str, str], ...] = ()
    max_regression: tuple[str, ...] = ()
    confidence: float | None = None


def _table(data: dict[str, Any], key: str, origin: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        msg = f"{origin}: [{key}] must be a table"
        raise UsageError(msg)
    return value


def _parse(data: dict[str, Any], origin: Path) -> Config:
    unknown = set(data) - {"mapping", "pricing", "slo", "quality", "report"}
    if unknown:
        msg = f"{origin}: unknown section(s) {', '.join(sorted(unknown))}"
        raise UsageError(msg)
    mapping = _table(data, "mapping", origin)
    for canonical, spec in mapping.items():
        if not isinstance(spec, str):
            msg = f"{origin}: mapping.{canonical} must be a string path"
            raise UsageError(msg)
        parse_source_path(canonical, spec)
    pricing = _table(data, "pricing", origin)
    prices = pricing.get("prices")
    if prices is not None and not isinstance(prices, str):
        msg = f"{origin}: pricing.prices must be a file path"
        raise UsageError(msg)
    slos, gates, confidence = _slo_section(_table(data, "slo", origin), origin)
    quality = parse_quality_config(_table(data, "quality", origin), str(origin))
    return Config(dict(mapping), (origin.parent / prices) if prices else None, quality, origin, slos, gates, confidence)


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
    for where, text, parse in [
        *((f"slo.{n}", t, parse_slo) for n, t in slos),
        *(("slo.max_regression", g, parse_gate) for g in gates),
    ]:
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
            msg = f"config file not found: {path}"
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
