r"""Personal data and secrets in text: the patterns, shared by the quality flags and by redaction.

Each kind is a regular expression (Rust regex syntax, as Polars runs it), written with `\b` and `\d`
and run with their ASCII forms: the Unicode-aware ones take the regex engine off its fast automaton,
which made these checks 10-100x slower on real text. Card numbers must also pass the Luhn check, so
a 16-digit order number is not a card; the check is vectorised over the few candidates. These are
heuristics: docs/quality.md says what they catch and what they miss.
"""

from __future__ import annotations

import polars as pl


def ascii_classes(pattern: str) -> str:
    r"""`\b` and `\d` as their ASCII forms (`(?-u:\b)`, `[0-9]`)."""
    return pattern.replace(r"\b", r"(?-u:\b)").replace(r"\d", "[0-9]")


_READABLE: dict[str, str] = {
    "private_key": r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY(?: BLOCK)?-----",
    "api_key": (
        r"\b(?:sk-(?:proj-|ant-(?:api\d{2}-)?)?[A-Za-z0-9_-]{20,}"
        r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
        r"|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}"
        r"|xox[abposr]-[A-Za-z0-9-]{10,}"
        r"|AIza[0-9A-Za-z_-]{35}"
        r"|(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}"
        r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
        r"|hf_[A-Za-z0-9]{30,})"
    ),
    # A named secret (`aws_secret_access_key = ...`: no word boundary before it, `_` is a word character),
    # or an HTTP bearer credential (`Authorization: Bearer ...`).
    "secret": (
        r"(?i)(?:api[_-]?key|secret|password|passwd|access[_-]?token|auth[_-]?token)[A-Za-z0-9_-]*"
        r"\s*[:=]\s*['\"]?[^\s'\"]{8,}"
        r"|(?i)\bbearer\s+[A-Za-z0-9._~+/-]{16,}=*"
    ),
    "email": r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
    "iban": r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
    "card": r"\b\d(?:[ -]?\d){12,18}\b",
    "ssn": r"\b\d{3}-\d{2}-\d{4}\b",
    # International with a +, or North American with dashes, dots or parentheses: digit groups separated
    # only by spaces are too often something else (card numbers, amounts, IDs).
    "phone": (
        r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,4}\b"
        r"|\(\d{3}\) ?\d{3}[-.]\d{4}\b|\b\d{3}[-.]\d{3}[-.]\d{4}\b"
    ),
    "ipv4": r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b",
    # Full (eight groups) or compressed with `::` between groups (2001:db8::8a2e:370:7334, fe80::1).
    "ipv6": r"\b(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,6}(?::[0-9A-Fa-f]{1,4}){1,6})\b",
}

#: kind -> pattern. Order matters for redaction: longer, more specific secrets first.
PATTERNS: dict[str, str] = {kind: ascii_classes(pattern) for kind, pattern in _READABLE.items()}

#: Kinds that count as secrets rather than personal data.
SECRET_KINDS = frozenset({"private_key", "api_key", "secret"})

_ANY = "|".join(f"(?:{p})" for k, p in PATTERNS.items() if k != "card")


def luhn_valid(digits: pl.Expr) -> pl.Expr:
    """True where a string of digits (separators allowed) passes the Luhn checksum."""
    numbers = digits.str.replace_all(r"[^0-9]", "").str.split("").list.eval(pl.element().cast(pl.Int64)).list.reverse()
    doubled = numbers.list.eval(
        pl.when(pl.int_range(pl.len()) % 2 == 1)
        .then(pl.when(pl.element() * 2 > 9).then(pl.element() * 2 - 9).otherwise(pl.element() * 2))
        .otherwise(pl.element())
    )
    return (doubled.list.sum() % 10 == 0) & (numbers.list.len() >= 13)


def has_card_number(text: pl.Expr) -> pl.Expr:
    """Some digit run in the text looks like a card number and passes Luhn (null stays null)."""
    candidates = text.str.extract_all(PATTERNS["card"])
    valid = candidates.list.eval(luhn_valid(pl.element()))
    return pl.when(text.is_null()).then(None).otherwise(valid.list.any().fill_null(False))


def has_pii(text: pl.Expr) -> pl.Expr:
    """Any kind of personal data or secret in the text (null when the text is null)."""
    return text.str.contains(_ANY) | has_card_number(text)


def pii_kinds(text: pl.Expr) -> pl.Expr:
    """The kinds found in the text, as a list of names (for outlier rows and traces)."""
    found = [pl.when(text.str.contains(p)).then(pl.lit(k)) for k, p in PATTERNS.items() if k != "card"]
    found.append(pl.when(has_card_number(text)).then(pl.lit("card")))
    return pl.concat_list(found).list.drop_nulls()
