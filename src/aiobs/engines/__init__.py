"""Where the core job runs: in this process (`local`), or on a Ray cluster (`ray`, aiobs.engines.ray_engine).

An engine turns the sources into the request table, its spend and its input issues (aiobs.rebuild's
`RequestTables`); the metrics are then computed once, the same way whatever the engine. Both engines run
the same functions in the same order on the same buckets, so they give the same numbers, not close ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aiobs import rebuild
from aiobs.errors import UsageError
from aiobs.issues import IssueLog
from aiobs.rebuild import Rebuild, RequestTables, Workspace
from aiobs.sources.base import Source

ENGINE_NAMES = ("local", "ray")

Read = tuple[Workspace, IssueLog, RequestTables]


class Engine(Protocol):
    def read(self, sources: list[Source], how: Rebuild, *, keep_events: bool) -> Read:
        """The sources as a request table (and the events, when kept), with every input issue found."""
        ...


@dataclass(frozen=True)
class LocalEngine:
    """This process: parse threads, buckets spilled to a temporary folder past a memory budget.

    `reduce_at_parse` turns each chunk's events into partial request rows where they are parsed (same
    answers; slower on two cores, so off by default: docs/performance.md).
    """

    reduce_at_parse: bool = False

    def read(self, sources: list[Source], how: Rebuild, *, keep_events: bool) -> Read:
        if self.reduce_at_parse and not keep_events and all(s.path is not None and s.path.is_file() for s in sources):
            reduced = rebuild.reduce_at_parse(sources, how)
            if reduced is not None:  # None: the input needs its events rebuilt together
                return reduced
        return rebuild.rebuild_from_events(sources, how, keep_events=keep_events)


def engine_named(name: str | None, *, ray_address: str | None = None) -> Engine:
    """`--engine NAME` (default local); `ray_address` is for `ray` only (default: RAY_ADDRESS, or a local Ray)."""
    key = (name or "local").strip().lower()
    if key == "local":
        if ray_address:
            msg = "--ray-address is for --engine ray"
            raise UsageError(msg)
        return LocalEngine()
    if key == "ray":
        from aiobs.engines.ray_engine import RayEngine  # only when asked: Ray is an optional extra

        return RayEngine(address=ray_address)
    msg = f"unknown engine '{name}': choose from {', '.join(ENGINE_NAMES)}"
    raise UsageError(msg)
