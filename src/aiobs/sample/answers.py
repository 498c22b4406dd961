"""What the sample's prompts and answers say: reply text from the built-in corpus, RAG answers built from the
passages they were given, loops, JSON replies (valid or planted broken), and planted personal data.

`Texts` draws on the generator's own `random.Random`, so the order of its calls is part of the output: a
sample is byte-identical for a seed only while that order stays the same.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from typing import Any, Final

import orjson

from aiobs.sample.corpus import (
    ALNUM,
    CITATIONS,
    CORPUS,
    CORPUS_ENDS,
    CORPUS_STARTS,
    EXAMPLE_IBANS,
    INPUT_PII_TEMPLATES,
    JSON_TRAILERS,
    KB_SENTENCES,
    KB_URLS,
    LOOPS,
    MAIL_DOMAINS,
    MAX_TEXT,
    NAMES,
    OUTPUT_PII_TEMPLATES,
    PHONES,
    RAG_OPENERS,
    REFUSALS,
    TEST_CARDS,
    UNGROUNDED_URLS,
)
from aiobs.sample.rates import (
    P_CONTEXT_IGNORED,
    P_EMPTY,
    P_INPUT_CARD,
    P_INPUT_CONTACT,
    P_INPUT_IBAN,
    P_INPUT_SECRET,
    P_OUTPUT_PII,
    P_REFUSAL,
    P_REPETITION,
    P_UNGROUNDED_URL,
)
from aiobs.sample.traffic import lognormal

#: What a final answer can be besides a normal one, with its probability, per app.
CHAT_ANSWER_KINDS: Final = (("refusal", P_REFUSAL), ("repetition", P_REPETITION), ("empty", P_EMPTY))
RAG_ANSWER_KINDS: Final = (
    *CHAT_ANSWER_KINDS,
    ("context_ignored", P_CONTEXT_IGNORED),
    ("ungrounded_url", P_UNGROUNDED_URL),
)
INVALID_JSON_KINDS: Final = ("json_cut", "json_prose", "json_fence")
#: Answers a user is unhappy with (as are failed requests and answers cut off at the token limit).
BAD_KINDS: Final = frozenset({"refusal", "repetition", "empty", "context_ignored", *INVALID_JSON_KINDS})
#: Answer kinds that are ordinary prose, so they can carry planted personal data.
_PROSE_KINDS: Final = frozenset({"text", "context_ignored", "ungrounded_url"})


@dataclass(frozen=True, slots=True)
class Answer:
    """The final answer a request will get. Decided before the call: its tokens set the call's latency."""

    kind: str = "text"  # text, one of the *_ANSWER_KINDS, json (valid) or one of INVALID_JSON_KINDS
    median_tokens: float = 280.0
    docs: tuple[int, ...] = ()  # indexes into KB: the passages a RAG answer draws on, best first
    json_obj: dict[str, Any] | None = None
    response_format: Any = None
    pii: str | None = None  # "email", "phone" or "card": personal data the answer mentions


def _mid_word(text: str, stop: int, floor: int) -> int:
    """The nearest position at or before `stop` that splits a word: where a reply cut off by the token limit ends."""
    while stop > floor + 1 and not (text[stop - 1].isalnum() and text[stop].isalnum()):
        stop -= 1
    return stop


class Texts:
    """Prompts and answers, and which kind of answer (and personal data) a request gets."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def _text(self, n_chars: int, *, cut: bool = False) -> str:
        """About `n_chars` of generic reply text from a sentence start, ending a sentence (or mid-word if `cut`)."""
        n = min(MAX_TEXT, max(20, n_chars))
        start = CORPUS_STARTS[int(self.rng.random() * len(CORPUS_STARTS))]
        stop = start + n
        if cut:
            return CORPUS[start : _mid_word(CORPUS, stop, start)]
        i = bisect.bisect_right(CORPUS_ENDS, stop) - 1
        if i < 0 or CORPUS_ENDS[i] <= start:
            i += 1  # no sentence ends within n: the first one that ends after the start
        return CORPUS[start : min(CORPUS_ENDS[i], start + MAX_TEXT)]

    def _grounded(self, docs: tuple[int, ...], n_chars: int, *, cut: bool, made_up_link: bool) -> str:
        """An answer made of the passages' sentences, best passage first, sometimes citing one of their links."""
        rng = self.rng
        n = min(1400, max(20, n_chars))  # leaves room for a link and a sentence of personal data
        sentences: list[str] = []
        size = 0
        for doc in docs:
            for sentence in KB_SENTENCES[doc]:
                sentences.append(sentence)
                size += len(sentence) + 1
                if size >= n:
                    break
            if size >= n:
                break
        if made_up_link:
            link = UNGROUNDED_URLS[int(rng.random() * len(UNGROUNDED_URLS))]
            sentences.insert(1, f"See {link} for the full walkthrough.")
        opener = RAG_OPENERS[int(rng.random() * len(RAG_OPENERS))]
        first = sentences[0]
        if opener.endswith(", "):
            first = first[0].lower() + first[1:]
        text = opener + " ".join([first, *sentences[1:]])
        if cut:
            stop = min(n, len(text) - 1)
            link_at = text.rfind("http", 0, stop)
            if link_at > 0 and not any(ch.isspace() for ch in text[link_at:stop]):
                stop = link_at - 1  # half a link would read as a made-up one
            return text[: _mid_word(text, stop, 0)]
        if not made_up_link and rng.random() < 0.35:
            links = [url for doc in docs[:2] for url in KB_URLS[doc]]
            if links:
                text += CITATIONS[int(rng.random() * len(CITATIONS))].format(links[int(rng.random() * len(links))])
        return text

    def _loop(self, answer: Answer, cap: int) -> tuple[int, str, str]:
        """Degenerate decoding: a phrase repeated many times, half of the time until the token limit."""
        rng = self.rng
        phrase = LOOPS[int(rng.random() * len(LOOPS))]
        sep = " " if rng.random() < 0.7 else "\n"
        prefix = self._text(rng.randint(40, 300)) + sep if rng.random() < 0.7 else ""
        if rng.random() < 0.5:
            text = prefix + sep.join([phrase] * rng.randint(8, 30))
            visible = len(text.encode()) // 4 + rng.randint(0, 5)
            if visible < cap:
                return visible, "stop", text
        text = prefix + sep.join([phrase] * (MAX_TEXT // len(phrase) + 2))
        return cap, "length", text[: _mid_word(text, MAX_TEXT - 1, len(prefix))]

    def _json_reply(self, answer: Answer, cap: int) -> tuple[int, str, str]:
        """A JSON-mode reply: the object, or (planted) the object cut off, wrapped in prose or in a Markdown fence."""
        rng = self.rng
        pretty = answer.kind == "json_cut" or rng.random() < 0.4
        body = orjson.dumps(answer.json_obj, option=orjson.OPT_INDENT_2 if pretty else 0).decode()
        if answer.kind == "json_cut":
            # Before the closing brace, so never valid JSON; about 3 characters a token for JSON.
            return cap, "length", body[: min(MAX_TEXT, int(cap * (2.8 + 0.6 * rng.random())), len(body) - 2)]
        if answer.kind == "json_prose":
            before, after = JSON_TRAILERS[int(rng.random() * len(JSON_TRAILERS))]
            body = before + body + after
        elif answer.kind == "json_fence":
            body = f"```json\n{body}\n```"
        return min(cap - 1, len(body) // 3 + rng.randint(1, 6)), "stop", body

    def reply(self, answer: Answer, cap: int) -> tuple[int, str, str]:
        """(visible output tokens, finish_reason, text) of an answer allowed `cap` visible tokens."""
        rng = self.rng
        kind = answer.kind
        if kind == "refusal":
            text = REFUSALS[int(rng.random() * len(REFUSALS))]
            return len(text.encode()) // 3 + rng.randint(0, 3), "stop", text
        if kind == "empty":
            return rng.randint(1, 2), "stop", ""
        if kind == "repetition":
            return self._loop(answer, cap)
        if kind not in _PROSE_KINDS:
            return self._json_reply(answer, cap)
        visible = max(1, int(lognormal(rng, answer.median_tokens, 0.7)))
        cut = visible >= cap
        if cut:
            visible = cap
        n_chars = min(MAX_TEXT, int(visible * (3.2 + 1.4 * rng.random())))
        extra = ""
        if answer.pii is not None:
            templates = OUTPUT_PII_TEMPLATES[answer.pii]
            extra = templates[int(rng.random() * len(templates))].format(pii=self._pii(answer.pii))
            n_chars -= len(extra) + 1
        if answer.docs and kind != "context_ignored":
            text = self._grounded(answer.docs, n_chars, cut=cut, made_up_link=kind == "ungrounded_url")
        else:
            text = self._text(n_chars, cut=cut)
        if extra:
            # Before a reply that was cut off (so it survives the cut), else after it.
            text = f"{extra} {text}" if cut else f"{text} {extra}"
        return visible, "length" if cut else "stop", text

    # -- planted personal data ----------------------------------------------------------------------------------------

    def _pii(self, kind: str) -> str:
        rng = self.rng
        if kind == "email":
            name = NAMES[int(rng.random() * len(NAMES))]
            suffix = str(rng.randint(1, 99)) if rng.random() < 0.3 else ""
            return f"{name}{suffix}@{MAIL_DOMAINS[int(rng.random() * len(MAIL_DOMAINS))]}"
        if kind == "phone":
            return PHONES[int(rng.random() * len(PHONES))].format(rng.randint(0, 99))
        if kind == "card":
            card = TEST_CARDS[int(rng.random() * len(TEST_CARDS))]
            sep = ("", " ", "-")[int(rng.random() * 3)]
            groups = (
                (card[:4], card[4:10], card[10:]) if len(card) == 15 else (card[i : i + 4] for i in range(0, 16, 4))
            )
            return sep.join(groups)
        if kind == "iban":
            iban = EXAMPLE_IBANS[int(rng.random() * len(EXAMPLE_IBANS))]
            return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.7 else iban
        if kind == "openai_key":
            return "sk-proj-" + "".join(rng.choices(ALNUM, k=48))
        if kind == "aws_key":
            return "AKIA" + "".join(rng.choices(ALNUM[:26] + ALNUM[52:], k=16))
        return "ghp_" + "".join(rng.choices(ALNUM, k=36))

    def with_input_pii(self, prompt: str) -> str:
        """The prompt, or (rarely) the prompt with an email, a phone number, a secret, a card number or an IBAN."""
        rng = self.rng
        r = rng.random()
        if r < P_INPUT_CONTACT:
            kind = "email" if r < 0.6 * P_INPUT_CONTACT else "phone"
        elif r < P_INPUT_CONTACT + P_INPUT_SECRET:
            kind = ("openai_key", "aws_key", "github_token")[int((r - P_INPUT_CONTACT) / P_INPUT_SECRET * 3)]
        elif r < P_INPUT_CONTACT + P_INPUT_SECRET + P_INPUT_CARD:
            kind = "card"
        elif r < P_INPUT_CONTACT + P_INPUT_SECRET + P_INPUT_CARD + P_INPUT_IBAN:
            kind = "iban"
        else:
            return prompt
        templates = INPUT_PII_TEMPLATES[kind]
        return templates[int(rng.random() * len(templates))].format(pii=self._pii(kind), prompt=prompt)

    def answer_kind(self, kinds: tuple[tuple[str, float], ...]) -> str:
        """One of `kinds` (name, probability), or "text" (a normal answer) for the rest."""
        r = self.rng.random()
        for kind, p in kinds:
            if r < p:
                return kind
            r -= p
        return "text"

    def output_pii(self) -> str | None:
        """The personal data ("email", "phone", "card") a final answer will mention, if any (rarely)."""
        r = self.rng.random()
        if r >= P_OUTPUT_PII:
            return None
        return "email" if r < 0.45 * P_OUTPUT_PII else "phone" if r < 0.8 * P_OUTPUT_PII else "card"
