"""PII and secrets out of text shown in reports (until `aiobs.redact` lands, which will take this over).

Applied to every string from the logs that a report shows: model names, routes, user IDs, error
types, input/output snippets and input-quality messages. Each match becomes a tag such as
`[email]`, so a reader still sees that something was there. Not a guarantee (no regex list is),
but it catches what logs leak most: emails, phone numbers, card numbers, API keys and tokens.
"""

from __future__ import annotations

import re

# Order matters: secrets first (an API key may contain digit runs that look like a phone number).
_SECRETS = re.compile(
    r"""
    \bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}       # OpenAI / Anthropic style keys
    | \b(?:AKIA|ASIA)[A-Z0-9]{16}\b              # AWS access key IDs
    | \bgh[pousr]_[A-Za-z0-9]{30,}\b             # GitHub tokens
    | \bxox[abprs]-[A-Za-z0-9-]{10,}             # Slack tokens
    | \bAIza[A-Za-z0-9_-]{35}\b                  # Google API keys
    | \beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}  # JWTs
    | (?i:\bbearer\s+)[A-Za-z0-9._~+/-]{16,}=*   # Authorization: Bearer ...
    | (?i:\b(?:api[_-]?key|secret|token|password|passwd)\b["']?\s*[:=]\s*["']?)[^\s"',;]{6,}
    """,
    re.VERBOSE,
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# 13 to 19 digits, optionally in groups separated by spaces or dashes; kept only if the Luhn check passes.
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
# International (+CC ...) or national numbers with separators: 9 to 15 digits in all.
_PHONE = re.compile(r"(?<![\w.])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}(?![\w.])")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if luhn_valid(digits) else match.group()


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group())
    return "[phone]" if 9 <= digits <= 15 else match.group()


def redact(text: str) -> str:
    """The text with secrets, emails, card numbers and phone numbers replaced by tags."""
    text = _SECRETS.sub("[secret]", text)
    text = _EMAIL.sub("[email]", text)
    text = _CARD.sub(_card, text)
    return _PHONE.sub(_phone, text)
