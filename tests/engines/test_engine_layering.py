"""engines/ runs the reading (sources -> formats -> ingest -> rebuild): it never imports what sits above it."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINES = Path(__file__).resolve().parents[2] / "src" / "aiobs" / "engines"
#: The summary and metrics computed from the request table, the views, the writers and the command line.
ABOVE = ("aiobs.summary", "aiobs.views", "aiobs.render", "aiobs.report", "aiobs.cli", "aiobs.gates", "aiobs.history")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_engines_import_nothing_above_the_request_table() -> None:
    modules = sorted(ENGINES.glob("*.py"))
    assert len(modules) >= 4, ENGINES
    for path in modules:
        for name in _imports(path):
            assert not any(name == a or name.startswith(a + ".") for a in ABOVE), f"{path.name} imports {name}"
