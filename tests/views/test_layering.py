"""views/ sits between the analysis and the writers: it never imports a writer, the CLI or a medium's library."""

from __future__ import annotations

import ast
from pathlib import Path

VIEWS = Path(__file__).resolve().parents[2] / "src" / "aiobs" / "views"
#: Writers (render), the command line (cli), and libraries that only a medium needs.
FORBIDDEN = ("aiobs.render", "aiobs.cli", "aiobs.report", "rich", "jinja2", "markupsafe", "typer")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_views_import_no_writer_and_no_medium() -> None:
    modules = sorted(VIEWS.glob("*.py"))
    assert modules, VIEWS
    for path in modules:
        for name in _imports(path):
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), f"{path.name} imports {name}"
