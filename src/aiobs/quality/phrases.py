"""Phrases that open a refusal, as case-insensitive regular expressions (Rust syntax).

Refusals lead the answer, so only the first `REFUSAL_WINDOW` characters are searched: a long answer
that quotes "I cannot help with" in its fifth paragraph is not a refusal. Extend the list in
aiobs.toml (`[quality] refusal_phrases = [...]`). Word boundaries are ASCII (`\b`): the
Unicode-aware `\b` forces the regex engine off its fast automaton (100x slower here).
"""

from __future__ import annotations

from aiobs.pii import ascii_classes

REFUSAL_WINDOW = 300

_APOS = "['’]"  # straight and typographic apostrophes

_READABLE: tuple[str, ...] = (
    # English
    rf"\bi{_APOS}?m (?:so |very |really )?sorry,? (?:but )?i "
    rf"(?:can{_APOS}?t|cannot|am unable|won{_APOS}?t|am not able)",
    rf"\bi apologi[sz]e,? (?:but )?i (?:can{_APOS}?t|cannot|am unable|won{_APOS}?t)",
    r"\bas an ai(?: language)? model\b",
    rf"\bi (?:cannot|can{_APOS}?t|am unable to|won{_APOS}?t|am not able to) "
    r"(?:help|assist|provide|comply|do that|fulfil|fulfill|answer|share|support)",
    rf"\bi{_APOS}?m (?:not able|unable) to (?:help|assist|provide|comply|answer)",
    r"\bi (?:must|have to|need to) (?:respectfully )?decline\b",
    rf"^\s*sorry,? (?:but )?i (?:can{_APOS}?t|cannot|won{_APOS}?t)",
    r"\bthat(?:'s| is) not something i can (?:help|assist) with\b",
    # French
    r"\bje suis désolée?,? mais je ne (?:peux|suis pas en mesure)",
    rf"\bje ne peux pas (?:vous |t{_APOS}?)?aider",
    # German
    r"\bes tut mir leid,? aber ich kann",
    r"\bich kann (?:ihnen|dir) (?:dabei |damit )?nicht helfen",
    # Spanish
    r"\blo siento,? pero no puedo",
    r"\bno puedo ayudar(?:te|le)? con",
    # Portuguese and Italian
    r"\bdesculpe,? mas não posso",
    r"\bmi dispiace,? ma non posso",
    # Japanese and Chinese
    r"申し訳(?:ありません|ございません)が.{0,20}(?:できません|お答えできません|お手伝いできません)",
    r"お手伝いできません",
    r"(?:抱歉|对不起|很抱歉)[，,]?\s*我(?:无法|不能)",
    r"我(?:无法|不能)(?:帮助|协助|提供)",
)

REFUSAL_PATTERNS: tuple[str, ...] = tuple(ascii_classes(p) for p in _READABLE)
