"""S3 URLs and key globs: `s3://bucket/key` split into its parts, and a glob in the key matched one `/`
segment at a time (`*`, `?` and `[...]` within a segment, `**` for any number of segments), so that a
listing can judge a folder before it lists anything below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from aiobs.errors import UsageError
from aiobs.sources.base import GLOB_CHARS


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); the key may be empty."""
    rest = url[len("s3://") :]
    bucket, _, key = rest.partition("/")
    if not bucket:
        msg = f"cannot read {url}: an S3 URL needs a bucket, as in s3://bucket/prefix/"
        raise UsageError(msg)
    if GLOB_CHARS & set(bucket):
        msg = f"cannot read {url}: globs work in the key, not in the bucket name"
        raise UsageError(msg)
    return bucket, key


@dataclass(frozen=True)
class KeyPattern:
    """A key glob cut at `/`: `*`, `?`, `[...]` match within one segment, `**` any number of segments.

    Matching runs segment by segment over a set of positions in `segments` (a small NFA), so a
    folder can be judged before anything below it is listed.
    """

    segments: tuple[str, ...] = ()
    #: The glob ended with `/`: it matches folders (and the log objects under them), not objects.
    folders_only: bool = False

    def start(self) -> frozenset[int]:
        return self._closure({0})

    def step(self, states: frozenset[int], segment: str) -> frozenset[int]:
        after: set[int] = set()
        for i in states:
            if i == len(self.segments):
                continue
            part = self.segments[i]
            if part == "**":
                after.add(i)
            elif fnmatchcase(segment, part):
                after.add(i + 1)
        return self._closure(after)

    def complete(self, states: frozenset[int]) -> bool:
        return len(self.segments) in states

    def literal_head(self, states: frozenset[int]) -> str:
        """The literal start of the next segment when only one is possible (narrows a listing's prefix)."""
        if len(states) != 1:
            return ""
        (i,) = states
        if i >= len(self.segments):
            return ""
        part = self.segments[i]
        return part[: next((k for k, ch in enumerate(part) if ch in GLOB_CHARS), len(part))]

    def _closure(self, states: set[int]) -> frozenset[int]:
        todo = list(states)
        while todo:
            i = todo.pop()
            if i < len(self.segments) and self.segments[i] == "**" and i + 1 not in states:
                states.add(i + 1)
                todo.append(i + 1)
        return frozenset(states)


def split_key(key: str) -> tuple[str, KeyPattern]:
    """The literal folder prefix of a key (`''` or ending in `/`) and the glob below it.

    A key without glob characters that ends in `/` (or is empty) is a prefix: the glob is empty and
    matches the prefix itself, so every log object under it is read.
    """
    segments = key.split("/")
    folders_only = len(segments) > 1 and segments[-1] == "" and bool(GLOB_CHARS & set(key))
    if segments[-1] == "":
        segments = segments[:-1]
    first_glob = next((i for i, s in enumerate(segments) if GLOB_CHARS & set(s)), len(segments))
    literal = "".join(s + "/" for s in segments[:first_glob])
    return literal, KeyPattern(tuple(segments[first_glob:]), folders_only=folders_only)
