"""`aiobs report`: one self-contained HTML (or Markdown) file that a person understands in a minute."""

from __future__ import annotations

from aiobs.report.model import Report, build_report

__all__ = ["Report", "build_report"]
