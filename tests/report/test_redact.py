"""Redaction of PII and secrets in report text: what it must catch, and what it must leave alone."""

from __future__ import annotations

import pytest

from aiobs.report.redact import luhn_valid, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to alice.smith+tag@mail.example.co.uk today", "write to [email] today"),
        ("call +1 415 555 0100 now", "call [phone] now"),
        ("call (415) 555-0100", "call [phone]"),
        ("tel 030 1234 5678", "tel [phone]"),
        ("card 4111 1111 1111 1111 ok", "card [card] ok"),
        ("card 4111-1111-1111-1111", "card [card]"),
        ("key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx done", "key [secret] done"),
        ("anthropic sk-ant-api03-abcdefghijklmnop1234", "anthropic [secret]"),
        ("aws AKIAIOSFODNN7EXAMPLE", "aws [secret]"),
        ("gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "gh [secret]"),
        ("Authorization: Bearer abc.def-ghi_jkl~mno123456", "Authorization: [secret]"),
        ("api_key=hunter2hunter2", "[secret]"),
        ('{"password": "correct horse"}', '{"[secret] horse"}'),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "jwt [secret]",
        ),
    ],
)
def test_redacts(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-28T04:10:41.429Z",
        "latency 12,345 ms over 2,600 requests",
        "order 1234567890123 shipped",  # 13 digits failing the Luhn check: not a card
        "gpt-4o-mini-2024-07-18",
        "/rag/answer?top_k=5",
        "version 1.2.3.4",
        "u-24592",
        "a 10-page PDF is 5,000–7,000 tokens",
    ],
)
def test_leaves_ordinary_text_alone(text: str) -> None:
    assert redact(text) == text


def test_luhn_against_known_numbers() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("5555555555554444")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")
