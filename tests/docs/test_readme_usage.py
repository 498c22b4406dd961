"""The README's usage line of each command lists every option the command takes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from aiobs.cli import app

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: What "[...summarize's input options]" stands for in a usage line.
INPUT_OPTIONS = {
    "--since",
    "--until",
    "--map",
    "--prices",
    "--config",
    "--strict",
    "--endpoint-url",
    "--input-format",
    "--time-is",
    "--time-format",
    "--timezone",
    "--http-error-from",
    "--engine",
    "--ray-address",
    "--where",
}


def usage(command: str) -> str:
    match = re.search(rf"```\n(aiobs {command} PATHS\.\.\..*?)```", README, re.S)
    assert match, f"no usage block for aiobs {command} in the README"
    return match.group(1)


@pytest.mark.parametrize("command", ["summarize", "outliers", "trace", "check"])
def test_the_usage_line_lists_every_option(command: str) -> None:
    params = typer.main.get_command(app).commands[command].params  # type: ignore[attr-defined]
    options = {next(o for o in p.opts if o.startswith("--")) for p in params if p.opts[0].startswith("-")}
    options |= {o for p in params for o in getattr(p, "secondary_opts", [])}  # --no-flags
    options -= {"--help", "--flags"}
    options -= {p.opts[0] for p in params if getattr(p, "hidden", False)}
    text = usage(command)
    listed = set(re.findall(r"--[a-z][a-z0-9-]*", text))
    if "[...summarize's input options]" in text:
        listed |= INPUT_OPTIONS
    assert sorted(options - listed) == []
    assert sorted(listed - options) == []
