"""Errors the user can fix. The CLI turns them into one sentence and an exit code."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class AiobsError(Exception):
    """Base class: the message is shown to the user as is."""


class UsageError(AiobsError):
    """A bad argument or configuration value (exit code 2)."""


class InputError(AiobsError):
    """Input that cannot be read at all, or holds no usable events (exit code 2)."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`; did you mean model?` for a near miss among `choices` (a typo), else an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return f"; did you mean {close[0]}?" if close else ""
