"""Errors the user can fix. The CLI turns them into one sentence and an exit code."""

from __future__ import annotations


class AiobsError(Exception):
    """Base class: the message is shown to the user as is."""


class UsageError(AiobsError):
    """A bad argument or configuration value (exit code 2)."""


class InputError(AiobsError):
    """Input that cannot be read at all, or holds no usable events (exit code 2)."""
