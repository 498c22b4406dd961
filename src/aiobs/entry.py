"""The `aiobs` console script: Ctrl-C while the modules are still loading is one line and exit 130.

The command line imports Polars, rich and the whole pipeline before it runs (about a second); a SIGINT
in that second would otherwise end in a traceback of the import in progress. This module imports
nothing of aiobs until it can answer one.
"""

from __future__ import annotations

import sys

#: What a shell reports for a command ended by SIGINT (aiobs.cli.common.ExitCode.INTERRUPTED).
INTERRUPTED = 130


def main() -> None:
    try:
        from aiobs.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("aiobs: interrupted\n")
        raise SystemExit(INTERRUPTED) from None
    run()
