"""Lower layers never import higher ones (the pipeline in docs/architecture.md), checked per package; and
the computation modules at the top of the package never import a writer or the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "aiobs"
#: package -> what it must never import.
FORBIDDEN = {
    # views sit between the analysis and the writers: no writer, no CLI, no medium's library.
    "views": ("aiobs.render", "aiobs.cli", "aiobs.report", "rich", "jinja2", "markupsafe", "typer"),
    # the log formats turn bytes into the canonical event table: nothing that uses that table.
    "formats": ("aiobs.summary", "aiobs.views", "aiobs.render", "aiobs.report", "aiobs.cli", "aiobs.gates"),
    "sources": ("aiobs.formats", "aiobs.summary", "aiobs.views", "aiobs.render", "aiobs.report", "aiobs.cli"),
    # the report's model is the report command's view: built once, written by render (HTML, Markdown).
    "report": ("aiobs.render", "aiobs.cli", "rich", "jinja2", "markupsafe", "typer"),
    # engines run the reading (sources -> formats -> ingest -> rebuild): nothing above the request table.
    "engines": (
        "aiobs.summary",
        "aiobs.views",
        "aiobs.render",
        "aiobs.report",
        "aiobs.cli",
        "aiobs.gates",
        "aiobs.history",
    ),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_above_it(package: str) -> None:
    modules = sorted((PACKAGE / package).glob("*.py"))
    assert len(modules) >= 4, package
    for path in modules:
        for name in _imports(path):
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN[package]), (
                f"{path.name} imports {name}"
            )


#: Top-level modules that are writers' or the CLI's callers, not computation.
ENTRY_MODULES = {"__init__.py", "entry.py", "api.py"}


def test_the_computation_modules_import_no_writer_and_no_cli() -> None:
    modules = sorted(p for p in PACKAGE.glob("*.py") if p.name not in ENTRY_MODULES)
    assert len(modules) >= 20
    for path in modules:
        for name in _imports(path):
            assert not name.startswith(("aiobs.render", "aiobs.cli", "aiobs.report")), f"{path.name} imports {name}"
