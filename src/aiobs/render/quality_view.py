"""The quality section of a summary as plain rows, shared by the terminal and Markdown renderers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aiobs.quality import FLAG_DESCRIPTIONS
from aiobs.views.record_types import FeedbackRecord, FlagRecord

#: Group tables show at most this many flags (the most frequent), so they fit a terminal.
GROUP_FLAG_COLUMNS = 4
#: Shown in the request tables already (errors, retries): group flag tables skip them.
NOT_IN_GROUP_TABLES = ("error", "retried")


@dataclass(frozen=True)
class FlagRow:
    name: str
    meaning: str
    applicable: int
    flagged: int
    rate: float | None
    cost_usd: float | None


def flag_rows(flags: Mapping[str, FlagRecord]) -> list[FlagRow]:
    """Flags that could be checked on at least one request, in their documented order."""
    return [
        FlagRow(
            name, FLAG_DESCRIPTIONS.get(name, "custom rule"), f["applicable"], f["flagged"], f["rate"], f["cost_usd"]
        )
        for name, f in flags.items()
        if f["applicable"]
    ]


def unchecked_flags(flags: Mapping[str, FlagRecord]) -> list[str]:
    """Flags no request had the data for (no retrieved context, no JSON asked for, ...)."""
    return [name for name, f in flags.items() if not f["applicable"]]


def group_flags(flags: Mapping[str, FlagRecord]) -> list[str]:
    """The flags group tables show: the most often raised ones, skipping those the request tables show."""
    raised = [(f["flagged"], name) for name, f in flags.items() if f["flagged"] and name not in NOT_IN_GROUP_TABLES]
    return [name for _, name in sorted(raised, key=lambda t: -t[0])[:GROUP_FLAG_COLUMNS]]


def acceptance_line(feedback: FeedbackRecord) -> str | None:
    rate, mean = feedback["acceptance_rate"], feedback["mean_score"]
    if not feedback["requests"] or rate is None or mean is None:  # both are known whenever a request has feedback
        return None
    return (
        f"User feedback on {feedback['requests']:,} requests: {rate * 100:.1f}% accepted "
        f"(score >= 0.5; mean score {mean:.2f})"
    )
