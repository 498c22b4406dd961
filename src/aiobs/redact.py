"""Redaction of personal data and secrets in what aiobs shows, and stable pseudonyms for user IDs.

Everything rendered from log text (snippets, traces, report tables, group keys) goes through
`redact_text` unless the user asks for `--no-redact`. It runs on the few rows being shown, never on
the whole request table. A match becomes `[email]`, `[card]`, `[api_key]`, ...: the kind stays
visible, so a reader knows something was there. Card-like digit runs are redacted whether or not
they pass the Luhn check (redaction errs on the side of hiding).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import polars as pl

from aiobs.pii import PATTERNS


@dataclass(frozen=True)
class Privacy:
    """How log-derived text is shown: redacted (default) or raw, user IDs as given or as stable hashes."""

    redact: bool = True
    hash_users: bool = False


def redact_text(text: pl.Expr) -> pl.Expr:
    """The text with every match of `aiobs.pii.PATTERNS` replaced by `[kind]`, most specific kinds first."""
    for kind, pattern in PATTERNS.items():
        text = text.str.replace_all(pattern, f"[{kind}]")
    return text


def redact_value(value: str | None) -> str | None:
    """`redact_text` for one Python string (same patterns, same engine)."""
    if value is None:
        return None
    return pl.select(redact_text(pl.lit(value, dtype=pl.String))).item()


def redact_values(values: list[str | None]) -> list[str | None]:
    """`redact_text` over many Python strings at once (one Polars pass, not one per value)."""
    if not values:
        return []
    return pl.Series(values, dtype=pl.String).to_frame("v").select(redact_text(pl.col("v"))).to_series().to_list()


def user_pseudonym(user: str) -> str:
    """A stable, non-reversible stand-in for a user ID: the same user gets the same name on every run."""
    return "user-" + hashlib.blake2b(user.encode("utf-8"), digest_size=6).hexdigest()


def pseudonymise_users(values: pl.Expr) -> pl.Expr:
    """`user_pseudonym` over a column. Runs on the rows being shown (tens to thousands), not the whole table."""
    return values.map_elements(user_pseudonym, return_dtype=pl.String, skip_nulls=True)


def apply_privacy(
    frame: pl.DataFrame, privacy: Privacy, *, text: tuple[str, ...], users: tuple[str, ...]
) -> pl.DataFrame:
    """A small frame about to be shown, with its text columns redacted and its user columns hashed as asked.

    A user column is hashed (when asked) instead of redacted: two users must not collapse into one `[email]`.
    """
    exprs: list[pl.Expr] = []
    for column in frame.columns:
        if privacy.hash_users and column in users:
            exprs.append(pseudonymise_users(pl.col(column)).alias(column))
        elif privacy.redact and (column in text or column in users) and frame.schema[column] == pl.String:
            exprs.append(redact_text(pl.col(column)).alias(column))
    return frame.with_columns(exprs) if exprs else frame
