"""`aiobs docs [PAGE]`: the Markdown pages of docs/, shipped in the wheel, readable where aiobs is installed."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import typer

from aiobs.cli.common import user_errors
from aiobs.errors import UsageError, did_you_mean


def docs_folder() -> Path:
    """The pages: in the installed package (a wheel), else the repository's docs/ (a source checkout)."""
    packaged = Path(str(resources.files("aiobs") / "docs"))
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[3] / "docs"


def pages() -> dict[str, Path]:
    return {path.stem: path for path in sorted(docs_folder().glob("*.md"))}


def _title(path: Path) -> str:
    first = next((line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("# ")), "")
    return first.removeprefix("# ").strip()


def docs_command(
    page: str | None = typer.Argument(None, metavar="PAGE", help="The page to print, e.g. ci; none: list them."),
) -> None:
    """Print one of aiobs's documentation pages (Markdown), or list them.

    The pages the help and messages point to as docs/NAME.md ship with aiobs.

    \b
    Examples:
      aiobs docs
      aiobs docs ci | less
    """
    with user_errors():
        found = pages()
        if not found:
            msg = f"no documentation pages in {docs_folder()}: the installation is incomplete"
            raise UsageError(msg)
        if page is None:
            width, columns = max(map(len, found)), shutil.get_terminal_size((80, 24)).columns
            rows = (f"{name:<{width}}  {_title(path)}" for name, path in found.items())
            typer.echo("\n".join(row if len(row) <= columns else row[: columns - 1] + "…" for row in rows))
            return
        name = page.removeprefix("docs/").removesuffix(".md")
        if name not in found:
            msg = f"no documentation page '{page}'{did_you_mean(name, found)} (aiobs docs lists them)"
            raise UsageError(msg)
        typer.echo(found[name].read_text(encoding="utf-8"), nl=False)
