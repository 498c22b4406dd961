"""Lower layers never import higher ones (the pipeline in docs/architecture.md), checked per package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "aiobs"
#: package -> what it must never import.
FORBIDDEN = {
    # views sit between the analysis and the writers: no writer, no CLI, no medium's library.
    "views": ("aiobs.render", "aiobs.cli", "aiobs.report", "rich", "jinja2", "markupsafe", "typer"),
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
