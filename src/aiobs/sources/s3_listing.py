"""Listing the objects an S3 URL names, without listing folders a time window rules out.

With a `--since`/`--until` window, date-partitioned folders (`2026/11/28/`, `dt=2026-11-28/`,
`year=2026/month=11/day=28/`; see `aiobs.sources.partitions`) are walked one level at a time with
the `/` delimiter and a folder whose time range does not overlap `[since, until)` is never listed.
Without a window, or below a folder that lies wholly inside it, objects are listed flat (1,000 keys
a call) and filtered here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from aiobs.sources.base import is_log_file
from aiobs.sources.partitions import PartitionTime, TimeWindow
from aiobs.sources.s3_errors import s3_errors
from aiobs.sources.s3_keys import KeyPattern

#: Set on a listed object that is not read: its name is not a log's (aiobs.sources.base.SkippedFile).
SKIPPED = "_aiobs_skipped"
#: Keys a list call asks for (S3's maximum); tests make it small to exercise pagination.
LIST_PAGE_SIZE = 1000
#: The delimiter walk stops this many levels below the URL's literal prefix; deeper, it lists flat.
MAX_WALK_DEPTH = 8
#: A level with more folders than this, none of them a date, is listed flat (one call per folder
#: would cost more than the pruning can save).
WIDE_LEVEL = 100


@dataclass(frozen=True)
class _Folder:
    """A folder on the way down: its prefix, the glob positions still possible, what it says about time."""

    prefix: str
    states: frozenset[int]
    matched: bool  # the glob matched this folder or one above it: log objects below it are in
    time: PartitionTime
    depth: int = 0


@dataclass
class Listing:
    """The objects one s3:// URL names, listed with date pruning. `pruned` counts skipped date folders."""

    client: Any
    bucket: str
    pattern: KeyPattern
    window: TimeWindow
    what: str
    pruned: int = 0

    def objects(self, literal: str) -> list[dict[str, Any]]:
        """Matching objects below the literal prefix, sorted by key."""
        time = PartitionTime()
        for segment in literal.split("/")[:-1]:
            time = time.after(segment)
        span = time.span()
        if span is not None and not self.window.overlaps(*span):
            self.pruned += 1
            return []
        states = self.pattern.start()
        root = _Folder(literal, states, self.pattern.complete(states), time)
        with s3_errors(self.what, self.bucket):
            found = list(self._walk(root))
        return sorted(found, key=lambda obj: obj["Key"])

    def _walk(self, folder: _Folder) -> Iterator[dict[str, Any]]:
        if not self._may_prune_below(folder):
            yield from self._flat(folder)
            return
        objects, names = self._level(folder)
        if len(names) > WIDE_LEVEL and not any(folder.time.names_date(n) for n in names):
            yield from self._flat(folder)
            return
        for obj in objects:
            if self._accepts(folder, obj["Key"][len(folder.prefix) :]):
                yield obj
            elif self._skips(folder, obj["Key"][len(folder.prefix) :]):
                yield {**obj, SKIPPED: True}
        for name in names:
            child = self._descend(folder, name)
            if child is not None:
                yield from self._walk(child)

    def _may_prune_below(self, folder: _Folder) -> bool:
        if self.window.is_open or folder.depth >= MAX_WALK_DEPTH or folder.time.finest:
            return False
        span = folder.time.span()
        return span is None or not self.window.covers(*span)

    def _descend(self, folder: _Folder, name: str) -> _Folder | None:
        time = folder.time.after(name)
        span = time.span()
        if span is not None and not self.window.overlaps(*span):
            self.pruned += 1
            return None
        states = self.pattern.step(folder.states, name)
        matched = folder.matched or self.pattern.complete(states)
        if not states and not matched:
            return None
        return _Folder(f"{folder.prefix}{name}/", states, matched, time, folder.depth + 1)

    def _accepts(self, folder: _Folder, name: str) -> bool:
        if not name:  # a zero-byte "folder" marker, `prefix/`
            return False
        if not self.pattern.folders_only and self.pattern.complete(self.pattern.step(folder.states, name)):
            return True
        return folder.matched and is_log_file(PurePosixPath(name))

    def _skips(self, folder: _Folder, name: str) -> bool:
        """An object under a matched folder whose name is not a log's (`README.md`, not `.hidden`): listed as
        skipped, so the run names it, as a local folder's other files are."""
        return bool(name) and folder.matched and not name.startswith(".")

    def _prefix(self, folder: _Folder) -> str:
        return folder.prefix + ("" if folder.matched else self.pattern.literal_head(folder.states))

    def _pages(self, prefix: str, *, delimiter: bool) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        extra = {"Delimiter": "/"} if delimiter else {}
        config = {"PageSize": LIST_PAGE_SIZE}
        yield from paginator.paginate(Bucket=self.bucket, Prefix=prefix, PaginationConfig=config, **extra)

    def _level(self, folder: _Folder) -> tuple[list[dict[str, Any]], list[str]]:
        objects: list[dict[str, Any]] = []
        names: list[str] = []
        start = len(folder.prefix)
        for page in self._pages(self._prefix(folder), delimiter=True):
            objects.extend(page.get("Contents", []))
            names.extend(p["Prefix"][start:-1] for p in page.get("CommonPrefixes", []))
        return objects, names

    def _flat(self, folder: _Folder) -> Iterator[dict[str, Any]]:
        folders: dict[str, _Folder | None] = {folder.prefix: folder}
        start = len(folder.prefix)
        for page in self._pages(self._prefix(folder), delimiter=False):
            for obj in page.get("Contents", []):
                *parents, name = obj["Key"][start:].split("/")
                node: _Folder | None = folder
                path = folder.prefix
                for segment in parents:
                    path = f"{path}{segment}/"
                    if path not in folders:
                        folders[path] = self._descend(node, segment) if node is not None else None
                    node = folders[path]
                    if node is None:
                        break
                if node is not None and self._accepts(node, name):
                    yield obj
                elif node is not None and self._skips(node, name):
                    yield {**obj, SKIPPED: True}
