"""Arguments in help as the README writes them: `PATHS...`, not typer's `{PATHS}...` and `PATHS <list[str]>`."""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand


class _ReadmeArgument(TyperArgument):
    def display_type_rich(self, ctx: object) -> str | None:
        return None  # the metavar says what the value is; typer would add the Python type

    def _usage_display_name(self) -> str:
        name = f"{self.display_name_raw}..." if self.nargs != 1 else self.display_name_raw
        return name if self.required else f"[{name}]"


class ReadmeCommand(TyperCommand):
    """A command whose arguments show as `PATHS...` in its usage line and help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                # typer builds the parameters before the command and offers no hook for their class.
                param.__class__ = _ReadmeArgument
