"""Redaction of what is shown, and stable pseudonyms for users."""

from __future__ import annotations

import polars as pl

from aiobs.redact import Privacy, apply_privacy, redact_value, redact_values, user_pseudonym


def test_each_kind_is_replaced_by_its_label() -> None:
    text = "Mail jo@example.com, card 4111 1111 1111 1111, key sk-proj-abcdefghijklmnopqrstuvwx, +1 415-555-0132"
    assert redact_value(text) == "Mail [email], card [card], key [api_key], [phone]"


def test_plain_text_is_unchanged_and_batches_agree() -> None:
    texts = ["Nothing to hide here.", "jo@example.com", None]
    assert redact_values(texts) == ["Nothing to hide here.", "[email]", None]
    assert [redact_value(t) for t in texts] == redact_values(texts)


def test_pseudonyms_are_stable_and_distinct() -> None:
    assert user_pseudonym("u-1") == user_pseudonym("u-1")
    assert user_pseudonym("u-1") != user_pseudonym("u-2")
    assert user_pseudonym("u-1").startswith("user-")
    assert "u-1" not in user_pseudonym("u-1")


def test_apply_privacy_hashes_users_before_redacting_them() -> None:
    frame = pl.DataFrame({"user": ["a@example.com", "b@example.com"], "output_text": ["mail a@example.com", "ok"]})
    hashed = apply_privacy(frame, Privacy(hash_users=True), text=("output_text",), users=("user",))
    assert hashed["user"].n_unique() == 2  # two users stay two users
    assert hashed["output_text"].to_list() == ["mail [email]", "ok"]
    raw = apply_privacy(frame, Privacy(redact=False), text=("output_text",), users=("user",))
    assert raw.equals(frame)
    redacted = apply_privacy(frame, Privacy(), text=("output_text",), users=("user",))
    assert redacted["user"].to_list() == ["[email]", "[email]"]
