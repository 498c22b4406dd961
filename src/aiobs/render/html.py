"""The report as one self-contained HTML file: inline CSS, inline SVG charts, one small static script.

Security model (docs/report.md): jinja2 autoescapes every value; the page's Content-Security-Policy
forbids everything (`default-src 'none'`) except its own stylesheet and script, each allowed by its
sha256 hash, and `data:` images; no log data is ever inside the script element or in a URL; charts
are SVG checked against an allow-list (aiobs.render.charts).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from aiobs.render import numbers as f
from aiobs.render.charts import render_charts
from aiobs.render.tables import html_cell, is_alert, is_rough
from aiobs.report.model import Report, stage_records
from aiobs.views.trends import scoring_text

TEMPLATE = "report.html.j2"


def template_dir() -> Path:
    """The templates folder, part of the package (src/aiobs/templates): one place for a wheel and a checkout."""
    return Path(str(resources.files("aiobs") / "templates"))


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir()),
        autoescape=True,  # every template, whatever its name: the report template ends in .j2
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.globals.update(_helpers())
    return env


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(script: str, css: str) -> str:
    """Nothing may load or run but this page's own stylesheet and script (and data: images)."""
    return (
        "default-src 'none'; "
        f"script-src {csp_hash(script)}; "
        f"style-src {csp_hash(css)}; "
        "img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


def _iso(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value is not None else ""


def _short_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "—"


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else "—"


def _hour(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "—"


def _num(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _fmt(value: Any, kind: str) -> str:
    formatter = {
        "count": f.count,
        "pct": f.pct,
        "ms": lambda v: f.ms(v) + (" ms" if v is not None else ""),
        "usd": f.usd,
    }
    return formatter[kind](value)


def _pct_digits(digits: int) -> Any:
    return lambda v: "—" if v is None else f"{v * 100:.{digits}f}%"


def _tick(value: float) -> str:
    """An axis tick of round steps: `0`, `20,000`, `0.25` (no trailing `.0`)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.6g}"


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def _helpers() -> dict[str, Any]:
    return {
        "count": f.count,
        "pct": f.pct,
        "pct0": _pct_digits(0),
        "pct1": _pct_digits(1),
        "ms": f.ms,
        "usd": f.usd,
        "fmt": _fmt,
        "iso": _iso,
        "short_time": _short_time,
        "day": _day,
        "hour": _hour,
        "metric_value": f.metric_value,
        "scoring_text": scoring_text,
        "num": _num,
        "mb": _mb,
        "tick": _tick,
        "cell": html_cell,
        "rough": is_rough,
        "alert": is_alert,
    }


def _static(name: str) -> str:
    return (template_dir() / name).read_text(encoding="utf-8")


def time_range(report: Report) -> str:
    """`2026-11-28 00:00 → 2026-11-29 17:41 UTC (41.7 h)`: when the requests started."""
    first, last = report.first_start, report.last_start
    if first is None or last is None:
        return "no request in the time window"
    hours = (last - first).total_seconds() / 3600
    span = f"{hours:,.1f} h" if hours < 72 else f"{hours / 24:,.1f} days"
    return f"{first:%Y-%m-%d %H:%M} → {last:%Y-%m-%d %H:%M} UTC ({span})"


def render_html(report: Report, *, charts: dict[str, str] | None = None) -> str:
    """The whole report as one HTML document (charts rendered here unless given)."""
    charts = render_charts(report) if charts is None else charts
    script, css = _static("report.js"), _static("report.css")
    template = environment().get_template(TEMPLATE)
    tail_n = report.tail.get_column("requests_tail")[0] if not report.tail.is_empty() else 0
    return template.render(
        r=report,
        o=report.overall,
        h=report.history,
        stages=stage_records(report),
        flags=report.flags_ranked.to_dicts() if report.flags_ranked is not None else [],
        tail_n=tail_n,
        charts={name: _trusted(svg) for name, svg in charts.items()},
        time_range=time_range(report),
        csp=content_security_policy(script, css),
        script=_trusted(script),
        css=_trusted(css),
    )


def _trusted(text: str) -> Markup:
    """Our own static files and allow-listed chart SVG: inserted as they are (never log text)."""
    return Markup(text)
