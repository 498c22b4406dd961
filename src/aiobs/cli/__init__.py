"""The `aiobs` command: a thin typer layer. Parse options, call the library, choose the exit code."""

from __future__ import annotations

import sys

import typer
from typer.exceptions import TyperException

from aiobs import __version__
from aiobs.cli.check import check_command
from aiobs.cli.common import ExitCode, output_failed
from aiobs.cli.docs import docs_command
from aiobs.cli.history import history_command
from aiobs.cli.inspect import inspect_command
from aiobs.cli.outliers import outliers_command
from aiobs.cli.report import report_command
from aiobs.cli.sample import sample_command
from aiobs.cli.summarize import summarize_command
from aiobs.cli.trace import trace_command
from aiobs.cli.usage import ReadmeCommand
from aiobs.errors import did_you_mean

app = typer.Typer(
    name="aiobs",
    help="Offline observability for AI applications: JSONL logs in; latency, errors, tokens, cost, quality out.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aiobs {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Offline observability for AI applications' JSONL logs."""


app.command("inspect", cls=ReadmeCommand)(inspect_command)
app.command("summarize", cls=ReadmeCommand)(summarize_command)
app.command("outliers", cls=ReadmeCommand)(outliers_command)
app.command("trace", cls=ReadmeCommand)(trace_command)
app.command("report", cls=ReadmeCommand)(report_command)
app.command("sample", cls=ReadmeCommand)(sample_command)
app.command("check", cls=ReadmeCommand)(check_command)
app.command("history", cls=ReadmeCommand)(history_command)
app.command("docs", cls=ReadmeCommand)(docs_command)


def _command_path(command: object, args: list[str]) -> str:
    """`aiobs summarize` for an error click raises without a context (an option missing its value)."""
    names = getattr(command, "commands", {})
    first = next((a for a in args if not a.startswith("-")), None)
    return f"aiobs {first}" if first in names else "aiobs"


def _unknown_option(exc: Exception, ctx: object) -> str | None:
    """`no such option --strickt; did you mean --strict?`: click's own list of "possible options" offers
    loose matches (`--bogus`: `--push`); aiobs's one close match, or none, as for `--by` and config keys."""
    name = getattr(exc, "option_name", None)
    command = getattr(ctx, "command", None)
    if not isinstance(name, str) or command is None or not hasattr(exc, "possibilities"):
        return None
    options = [o for param in command.params for o in (*param.opts, *getattr(param, "secondary_opts", ()))]
    return f"no such option {name}{did_you_mean(name, [o for o in options if o.startswith('--')])}"


def main() -> None:
    """The console script: like `app()`, but a mistyped option is one `aiobs:` sentence, not a usage block."""
    command = typer.main.get_command(app)
    try:
        code = command.main(prog_name="aiobs", standalone_mode=False)
        sys.stdout.flush()
    except OSError as exc:  # --help into a full disk or a closed pipe; commands handle their own (user_errors)
        failed = output_failed(exc)
        if failed is None:
            raise
        sys.exit(failed)
    except typer.Abort:
        typer.echo("aiobs: interrupted", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
    except TyperException as exc:  # typer's own click errors: bad option values, unknown commands
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            typer.echo(ctx.get_help())
            sys.exit(0)
        where = ctx.command_path if ctx is not None else _command_path(command, sys.argv[1:])
        message = _unknown_option(exc, ctx) or (exc.format_message() if hasattr(exc, "format_message") else str(exc))
        typer.echo(f"aiobs: {message.replace('Value error, ', '')} (see {where} --help)", err=True)
        sys.exit(getattr(exc, "exit_code", int(ExitCode.USAGE)))
    sys.exit(code if isinstance(code, int) else 0)
