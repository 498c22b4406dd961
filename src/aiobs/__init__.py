"""aiobs: offline observability for AI applications' JSONL logs."""

from __future__ import annotations

__version__ = "0.1.0"
