"""How often the sample generator plants each thing: one probability per request or per answer.

Kept in one place so the mix can be read and tuned at a glance; aiobs.sample.generator's docstring says
what each planted thing looks like. Counts in a sample follow these rates only approximately.
"""

from __future__ import annotations

from typing import Final

# Request fates (per request, independent of the app).
P_LOST_GATEWAY: Final = 0.02  # the gateway event never made it to the log
P_ERROR_5XX: Final = 0.013  # the request fails upstream: gateway 500/503
P_ERROR_429: Final = 0.004  # rate limited twice: gateway 429
P_RETRY: Final = 0.02  # a rate-limited first attempt, then a successful retry
P_SLOW: Final = 0.012  # a stalled provider or vector store: that stage takes ~10x longer
P_TOOL: Final = 0.15  # chatbot requests that call a tool
P_LOGGED_COST: Final = 0.30  # LLM calls whose cost the application logged itself
P_CACHED: Final = 0.45  # LLM calls (with >= 1,024 prompt tokens) that hit the provider's prompt cache

# What the answers say (per final answer of a request; the rest are normal answers).
P_REFUSAL: Final = 0.02  # chat and RAG answers that refuse ("I'm sorry, but I can't help with that.")
P_REPETITION: Final = 0.005  # answers that loop on a phrase (half of them until the token limit)
P_EMPTY: Final = 0.003  # answers with an empty text and one or two output tokens
P_CONTEXT_IGNORED: Final = 0.03  # RAG answers that ignore the retrieved passages (generic text)
P_UNGROUNDED_URL: Final = 0.01  # RAG answers that cite a link that is in no passage
P_INVALID_JSON: Final = 0.04  # `/extract` outputs that do not parse (a third each: cut off, prose around, fenced)
P_OUTPUT_PII: Final = 0.005  # normal answers that contain an email address, a phone number or a card number
# What the prompts carry (per request).
P_INPUT_CONTACT: Final = 0.02  # an email address (60 %) or a phone number (40 %)
P_INPUT_SECRET: Final = 0.005  # an API key or token: sk-..., AKIA..., ghp_...
P_INPUT_CARD: Final = 0.0015  # a (test) credit card number
P_INPUT_IBAN: Final = 0.0015  # an (example) IBAN
# User feedback (per request), logged 5 s to 10 min after the request ended.
P_FEEDBACK: Final = {"chatbot": 0.15, "rag": 0.10}
P_FEEDBACK_BAD_BOOST: Final = 1.5  # users rate a bad answer (error, refusal, empty, cut off, ...) more often...
P_THUMBS_UP: Final = 0.86  # ...and a normal one favourably this often,
P_THUMBS_UP_BAD: Final = 0.25  # a bad one this often (about 80 % acceptance overall)
P_FEEDBACK_SCORE: Final = 0.25  # feedback logged as a score in 0..1 (a 1-5 star rating) rather than "up"/"down"
