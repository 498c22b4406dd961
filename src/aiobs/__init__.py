"""aiobs: offline observability for AI applications' JSONL logs.

From Python (aiobs.api has the details):

    import aiobs

    summary = aiobs.summarize("logs/", by=["model"], since="24h")
    requests = aiobs.read_logs("logs/")          # a Polars frame, a row per rebuilt request
    document = aiobs.summary_json(summary)       # what `aiobs summarize --format json` writes

`import aiobs` stays light (the console script relies on it to answer Ctrl-C while loading): the
functions are imported from their modules when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from aiobs.api import read_logs, summarize
    from aiobs.render.json_csv import summary_json

__all__ = ["__version__", "read_logs", "summarize", "summary_json"]

_LAZY = {"read_logs": "aiobs.api", "summarize": "aiobs.api", "summary_json": "aiobs.render.json_csv"}


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    msg = f"module 'aiobs' has no attribute {name!r}"
    raise AttributeError(msg)
