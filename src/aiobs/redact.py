"""Redaction of personal data and secrets in what aiobs shows, and stable pseudonyms for user IDs.

One policy, `Privacy`, in two places, both applied before anything is shown or stored:

- **labels** (model, provider, route, user, finish reason, error type, event name): `private_labels`
  rewrites them in the request table and the events as each bucket is rebuilt, so every table,
  grouping, profile, history key, SLO group and trace built from them is private already. It runs on
  each column's distinct values (few), not per request. A label with personal data becomes its
  redacted form plus a short stable hash (`m [email]#3f2a`), so two users, or two models, never merge
  into one group, and the same label is the same in every run (baselines and history still match).
- **texts** (prompts, answers, context; shown only as snippets and traces): `apply_privacy` redacts
  the few rows being shown.

A match becomes `[email]`, `[card]`, `[api_key]`, ...: the kind stays visible, so a reader knows
something was there. Card-like digit runs are redacted whether or not they pass the Luhn check
(redaction errs on the side of hiding). `--no-redact` shows everything as logged; `--hash-users`
replaces every user ID with a stable pseudonym.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import polars as pl

from aiobs.issues import InputIssue, IssueLog
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


def private_issues(issues: IssueLog) -> IssueLog:
    """A copy of `issues` whose example messages are redacted: a message quotes the line it is about."""
    private = IssueLog(keep=issues.keep)
    for code, count in issues.counts.items():
        examples = issues.examples.get(code, [])
        messages = redact_values([e.message for e in examples])
        redacted = [InputIssue(e.code, e.source, e.line, m or "") for e, m in zip(examples, messages, strict=True)]
        private.add(code, count, redacted)
    return private


def user_pseudonym(user: str) -> str:
    """A stable, non-reversible stand-in for a user ID: the same user gets the same name on every run."""
    return "user-" + hashlib.blake2b(user.encode("utf-8"), digest_size=6).hexdigest()


def pseudonymise_users(values: pl.Expr) -> pl.Expr:
    """`user_pseudonym` over a column. Runs on the rows being shown (tens to thousands), not the whole table."""
    return values.map_elements(user_pseudonym, return_dtype=pl.String, skip_nulls=True)


#: Request and event columns that carry short labels from the logs (never free text).
LABEL_COLUMNS = ("model", "provider", "route", "user", "finish_reason", "error_type", "event")


def private_label(value: str, redacted: str) -> str:
    """`redacted` itself when redaction changed nothing; else with a stable hash of `value`, so distinct
    values stay distinct (`[email]#3f2a`)."""
    if redacted == value:
        return value
    return f"{redacted}#{hashlib.blake2b(value.encode('utf-8'), digest_size=2).hexdigest()}"


def _label_mapping(values: list[str], privacy: Privacy, *, users: bool) -> dict[str, str]:
    if users and privacy.hash_users:
        return {v: user_pseudonym(v) for v in values}
    if not privacy.redact:
        return {}
    return {
        v: private_label(v, r)
        for v, r in zip(values, redact_values(list(values)), strict=True)
        if r is not None and r != v
    }


def private_labels(frame: pl.DataFrame, privacy: Privacy, columns: tuple[str, ...] = LABEL_COLUMNS) -> pl.DataFrame:
    """`frame` with its label columns (String, or List of String such as `models`) made private as `privacy`
    says. Works on each column's distinct values, so it costs as much as there are distinct labels."""
    exprs: list[pl.Expr] = []
    for column in columns:
        if column not in frame.columns:
            continue
        dtype = frame.schema[column]
        values = frame.get_column(column)
        if isinstance(dtype, pl.List):
            values = values.explode()
        elif dtype != pl.String:
            continue
        mapping = _label_mapping(values.drop_nulls().unique().to_list(), privacy, users=column == "user")
        if not mapping:
            continue
        keys, new = list(mapping), list(mapping.values())
        replace = pl.element().replace(keys, new) if isinstance(dtype, pl.List) else pl.col(column).replace(keys, new)
        exprs.append(pl.col(column).list.eval(replace) if isinstance(dtype, pl.List) else replace.alias(column))
    return frame.with_columns(exprs) if exprs else frame


def private_keys(frame: pl.DataFrame, privacy: Privacy, *, dimension: str | None = None) -> pl.DataFrame:
    """A table of groups (`key`, and the `dimension` it belongs to, or one `dimension` for the whole table)
    with its keys made private: user keys as users, the others as labels."""
    if "key" not in frame.columns or frame.is_empty():
        return frame
    if dimension is not None:
        column = "user" if dimension == "user" else "model"
        return private_labels(frame.rename({"key": column}), privacy, (column,)).rename({column: "key"})
    indexed = frame.with_row_index("_row")
    is_user = pl.col("dimension") == "user"
    users = private_labels(indexed.filter(is_user).rename({"key": "user"}), privacy, ("user",)).rename({"user": "key"})
    others = private_labels(indexed.filter(~is_user).rename({"key": "model"}), privacy, ("model",)).rename(
        {"model": "key"}
    )
    return pl.concat([users, others]).sort("_row").drop("_row")


#: The request table's columns of free text from the logs (prompts, answers, contexts, whatever an LLM call
#: logged as its response format, routes): every writer of request rows shows them through `private_requests`.
REQUEST_TEXTS = ("input_text", "output_text", "context_text", "response_format", "route")


def private_requests(requests: pl.DataFrame, privacy: Privacy) -> pl.DataFrame:
    """Rows of the request table about to be shown: `REQUEST_TEXTS` redacted, the user redacted or hashed."""
    return apply_privacy(requests, privacy, text=REQUEST_TEXTS, users=("user",))


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
