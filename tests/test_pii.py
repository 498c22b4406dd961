"""PII patterns and the vectorised Luhn check, against a plain-Python reference."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiobs.pii import has_card_number, has_pii, luhn_valid, pii_kinds


def luhn_reference(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


@given(st.text(alphabet="0123456789", min_size=13, max_size=19))
def test_luhn_matches_the_reference(digits: str) -> None:
    got = pl.select(luhn_valid(pl.lit(digits))).item()
    assert got == luhn_reference(digits)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("write to jane.doe@example.com today", ["email"]),
        ("card 4111 1111 1111 1111", ["card"]),
        ("card 4111-1111-1111-1112", []),  # fails Luhn
        ("call +1 415-555-0132 or (415) 555-0199", ["phone"]),
        ("+33 1 23 45 67 89", ["phone"]),
        ("DE89 3704 0044 0532 0130 00", ["iban"]),
        ("ssn 078-05-1120", ["ssn"]),
        ("server 10.20.30.40 is down", ["ipv4"]),
        ("fe80:0000:0000:0000:0202:b3ff:fe1e:8329", ["ipv6"]),
        ("AKIAIOSFODNN7EXAMPLE", ["api_key"]),
        ("token ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", ["api_key"]),
        ("password = correct-horse-battery", ["secret"]),
        ("-----BEGIN RSA PRIVATE KEY-----", ["private_key"]),
        ("version 1.2.3, 42 cats, 2026-11-28, total 1 234 567", []),
    ],
)
def test_kinds_found(text: str, kinds: list[str]) -> None:
    frame = pl.DataFrame({"t": [text]})
    got = frame.select(pii_kinds(pl.col("t"))).item().to_list()
    assert got == kinds
    assert frame.select(has_pii(pl.col("t"))).item() is bool(kinds)


def test_null_text_is_unknown() -> None:
    frame = pl.DataFrame({"t": [None]}, schema={"t": pl.String})
    assert frame.select(has_pii(pl.col("t"))).item() is None
    assert frame.select(has_card_number(pl.col("t"))).item() is None
