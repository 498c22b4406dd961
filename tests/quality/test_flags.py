"""Each quality flag on examples that must raise it, examples that must not, and where it does not apply."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from aiobs.quality import BUILTIN_FLAGS, CustomRule, QualityConfig, add_flags, flag_names
from aiobs.quality.flags import context_utilisation
from aiobs.schema import REQUEST_SCHEMA


def requests(*rows: dict[str, Any]) -> pl.DataFrame:
    """Request rows with every schema column (null unless given); an answered, successful request by default."""
    base = {"correlation_id": "r", "is_error": False, "retries": 0, "has_root": True, "models": [], "n_events": 1}
    full = [{**base, **{"correlation_id": f"r{i}"}, **row} for i, row in enumerate(rows)]
    return pl.DataFrame(full, schema_overrides=dict(REQUEST_SCHEMA)).select(
        (pl.col(c) if any(c in r for r in full) else pl.lit(None)).cast(t).alias(c) for c, t in REQUEST_SCHEMA.items()
    )


def flag(name: str, *rows: dict[str, Any], config: QualityConfig | None = None) -> list[bool | None]:
    return add_flags(requests(*rows), config).collect()[f"flag_{name}"].to_list()


ANSWER = "The refund takes five to ten business days to appear on your statement."


def test_every_flag_has_a_column_and_custom_rules_follow() -> None:
    config = QualityConfig(rules=(CustomRule("mentions_acme", contains=("acme",)),))
    out = add_flags(requests({"output_text": ANSWER}), config).collect()
    assert flag_names(config) == [*BUILTIN_FLAGS, "mentions_acme"]
    assert all(f"flag_{n}" in out.columns for n in flag_names(config))
    assert all(out[f"flag_{n}"].dtype == pl.Boolean for n in flag_names(config))


def test_error_and_retried_always_apply() -> None:
    assert flag("error", {"is_error": True}, {"is_error": False}) == [True, False]
    assert flag("retried", {"retries": 2}, {"retries": 0}) == [True, False]


def test_empty() -> None:
    rows = [
        {"output_text": "   "},
        {"output_text": None, "output_tokens": 0},
        {"output_text": ANSWER, "output_tokens": 20},
        {"output_text": None, "output_tokens": None},  # nothing logged: unknown
        {"output_text": "", "is_error": True},  # a failed call has no answer: that is `error`, not `empty`
    ]
    assert flag("empty", *rows) == [True, True, False, None, None]


def test_too_short_and_too_long_use_the_thresholds() -> None:
    config = QualityConfig(min_output_chars=10, max_output_chars=40)
    rows = [{"output_text": "Yes."}, {"output_text": ANSWER}, {"output_text": "A fine answer."}, {"output_text": None}]
    assert flag("too_short", *rows, config=config) == [True, False, False, None]
    assert flag("too_long", *rows, config=config) == [False, True, False, None]


def test_tool_call_turns_are_not_judged_on_length() -> None:
    assert flag("too_short", {"output_text": "{}", "finish_reason": "tool_calls"}) == [None]


@pytest.mark.parametrize(
    "text",
    [
        "I'm sorry, but I can't help with that.",
        "I’m sorry, but I cannot share account details.",
        "As an AI language model, I cannot give medical advice.",
        "I cannot help with requests like this one.",
        "Sorry, I can't do that.",
        "I must decline to answer.",
        "Je suis désolé, mais je ne peux pas vous aider.",
        "Es tut mir leid, aber ich kann Ihnen dabei nicht helfen.",
        "Lo siento, pero no puedo ayudarte con eso.",
        "申し訳ありませんが、その質問にはお答えできません。",
        "抱歉，我无法提供这些信息。",
    ],
)
def test_refusal_phrases(text: str) -> None:
    assert flag("refusal", {"output_text": text}) == [True]


@pytest.mark.parametrize(
    "text",
    [
        ANSWER,
        "I can help with that: open Settings and choose Billing.",
        "Sorry for the wait! Here is your summary.",
        # A refusal quoted deep in a long answer is not a refusal.
        "Here is how support replies work. " * 12 + "A bot might say: I cannot help with that.",
    ],
)
def test_not_refusals(text: str) -> None:
    assert flag("refusal", {"output_text": text}) == [False]


def test_extra_refusal_phrases_from_config() -> None:
    config = QualityConfig(refusal_phrases=("we do not discuss that",))
    assert flag("refusal", {"output_text": "We do not discuss that here."}, config=config) == [True]


def test_truncated_by_finish_reason_or_at_the_limit_mid_sentence() -> None:
    rows = [
        {"output_text": ANSWER, "finish_reason": "length"},
        {"output_text": ANSWER, "finish_reason": "MAX_TOKENS"},
        {"output_text": ANSWER, "finish_reason": "stop"},
        {"output_text": "The steps are: first open the", "output_tokens": 300, "max_tokens": 300},
        {"output_text": "Done.", "output_tokens": 300, "max_tokens": 300},  # at the limit but complete
        {"output_text": "The steps are: first open the", "output_tokens": 120, "max_tokens": 300},
        {"output_text": ANSWER},  # neither a reason nor a limit: unknown
    ]
    assert flag("truncated", *rows) == [True, True, False, True, False, False, None]


def test_invalid_json_only_where_json_was_asked_for() -> None:
    rows = [
        {"output_text": '{"name": "Ada", "age": 36}', "response_format": "json_object"},
        {"output_text": '{"name": "Ada", "age": ', "response_format": "json_object"},
        {"output_text": '```json\n{"name": "Ada"}\n```', "response_format": "json_schema"},
        {"output_text": '{"a": 1} and some prose', "response_format": "json_object"},
        {"output_text": "not json at all", "response_format": None},
        {"output_text": "not json at all", "response_format": "text"},
    ]
    assert flag("invalid_json", *rows) == [False, True, True, True, None, None]


def test_invalid_json_on_configured_routes() -> None:
    config = QualityConfig(json_routes=("/extract",))
    rows = [{"output_text": "nope", "route": "/extract"}, {"output_text": "nope", "route": "/chat"}]
    assert flag("invalid_json", *rows, config=config) == [True, None]


def test_repetition_catches_loops_not_prose() -> None:
    loop = "Please restart the router and try again. " * 12
    stutter = "The answer is " + "the the the the " * 30
    prose = (
        "To rotate a key, open the dashboard and go to API keys. Click Rotate and confirm; the old key "
        "keeps working for 24 hours so that running jobs can finish. Update your secrets store, redeploy, "
        "and check the audit log to see which services still use the old key before it expires."
    )
    assert flag("repetition", {"output_text": loop}, {"output_text": stutter}, {"output_text": prose}) == [
        True,
        True,
        False,
    ]
    assert flag("repetition", {"output_text": "Short. Short. Short. Short."}) == [None]  # too short to tell


def test_pii_in_input_and_output() -> None:
    rows = [
        {"input_text": "My email is jane.doe@example.com", "output_text": ANSWER},
        {"input_text": "Card 4242 4242 4242 4242 please", "output_text": "Call +1 415-555-0132."},
        {"input_text": "Order 1234567890123456 arrived", "output_text": ANSWER},  # fails Luhn: not a card
        {"input_text": "key=sk-proj-abcdefghijklmnopqrstuvwxyz0123", "output_text": "DE89 3704 0044 0532 0130 00"},
        {"input_text": None, "output_text": None},
    ]
    assert flag("pii_in_input", *rows) == [True, True, False, True, None]
    assert flag("pii_in_output", *rows) == [False, True, False, True, None]


def test_context_unused_and_utilisation_score() -> None:
    context = (
        "Refunds are issued to the original payment method. They take five to ten business days to "
        "appear on your statement. Contact billing@example.com for invoices."
    )
    grounded = "Refunds are issued to the original payment method and take five to ten business days to appear."
    ignored = "Our headquarters are in Lisbon and the team enjoys surfing on weekends near Cascais."
    rows = [
        {"output_text": grounded, "context_text": context},
        {"output_text": ignored, "context_text": context},
        {"output_text": ignored, "context_text": None},  # not a RAG request
    ]
    assert flag("context_unused", *rows) == [False, True, None]
    scores = requests(*rows).select(context_utilisation()).to_series().to_list()
    assert scores[0] > 0.5 > scores[1]
    assert scores[2] is None


def test_ungrounded_url() -> None:
    context = "See https://docs.example.com/refunds for details."
    rows = [
        {"output_text": "Read https://docs.example.com/refunds.", "context_text": context},
        {"output_text": "Read https://help.example.org/made-up-page now", "context_text": context},
        {"output_text": "Try https://status.example.com", "input_text": "is https://status.example.com down?"},
        {"output_text": ANSWER, "context_text": context},  # no URL in the answer: nothing to check
    ]
    assert flag("ungrounded_url", *rows) == [False, True, False, None]


def test_slow_generation() -> None:
    rows = [
        {"output_tokens": 200, "llm_output_ms": 40_000.0},  # 5 tokens/s
        {"output_tokens": 200, "llm_output_ms": 4_000.0},  # 50 tokens/s
        {"output_tokens": 5, "llm_output_ms": 4_000.0},  # too few tokens to judge
        {"output_tokens": 200, "llm_output_ms": None},
    ]
    assert flag("slow_generation", *rows) == [True, False, None, None]


def test_custom_rules_regex_contains_length_and_routes() -> None:
    config = QualityConfig(
        rules=(
            CustomRule("competitor", contains=("Acme Corp",), routes=("/chat",)),
            CustomRule("ticket_id", field="input", regex=r"TCK-\d{4}"),
            CustomRule("wordy", max_chars=20),
        )
    )
    rows = [
        {"output_text": "Try acme corp instead.", "route": "/chat", "input_text": "about TCK-1234"},
        {"output_text": "Try acme corp instead.", "route": "/rag/answer", "input_text": "hello"},
    ]
    out = add_flags(requests(*rows), config).collect()
    assert out["flag_competitor"].to_list() == [True, None]
    assert out["flag_ticket_id"].to_list() == [True, False]
    assert out["flag_wordy"].to_list() == [True, True]
