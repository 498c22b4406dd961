"""`s3://` inputs: list the objects a URL names, then read each one as a stream.

A URL names one object (`s3://bucket/logs/app.jsonl.gz`), a prefix read like a local folder
(`s3://bucket/logs/`: every log object under it, by the suffix rules of `is_log_file`), or a key
glob (`s3://bucket/logs/2026/11/**/*.jsonl.gz`: `*`, `?` and `[...]` within a segment, `**` for
any number of segments; a folder the glob matches counts like a prefix).

With a `--since`/`--until` window, date-partitioned folders (`2026/11/28/`, `dt=2026-11-28/`, ...)
whose time range lies outside it are never listed.

The parts: aiobs.sources.s3_keys parses URLs and matches key globs, s3_listing lists what a URL names,
s3_objects makes the client and reads objects (fetching a few ahead), s3_errors says what went wrong in
one sentence. Errors that stop the run (no credentials, access denied, no such bucket, nothing matched)
become `InputError`s; an object that cannot be read once listed is an input issue and the run goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiobs.errors import InputError, UsageError
from aiobs.sources.base import GLOB_CHARS, LOG_FILES, SkippedFile, Source
from aiobs.sources.partitions import TimeWindow
from aiobs.sources.s3_errors import s3_errors
from aiobs.sources.s3_keys import KeyPattern, parse_s3_url, split_key
from aiobs.sources.s3_listing import SKIPPED, Listing
from aiobs.sources.s3_objects import ObjectReader, S3Source, connect


class S3Inputs:
    """The s3:// arguments of one run: one client, one time window, one reader that fetches ahead."""

    def __init__(self, *, endpoint_url: str | None = None, window: TimeWindow | None = None) -> None:
        if endpoint_url is not None and not endpoint_url.startswith(("http://", "https://")):
            msg = f"--endpoint-url must be an http:// or https:// URL, got '{endpoint_url}'"
            raise UsageError(msg)
        self._endpoint_url = endpoint_url
        self.window = window or TimeWindow()
        self._client: Any = None
        self._reader: ObjectReader | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = connect(endpoint_url=self._endpoint_url)
        return self._client

    @property
    def reader(self) -> ObjectReader:
        if self._reader is None:
            self._reader = ObjectReader(self.client, endpoint_url=self._endpoint_url)
        return self._reader

    def expand(self, url: str) -> list[S3Source | SkippedFile]:
        """The sources a URL names; InputError when it names nothing."""
        bucket, key = parse_s3_url(url)
        with s3_errors(url, bucket):
            self.client  # noqa: B018 (created here, so that a bad profile names the URL it was for)
        if key and not key.endswith("/") and not GLOB_CHARS & set(key):
            exact = self._exact_object(bucket, key, url)
            if exact is not None:
                return [self._source(bucket, exact)]
            key += "/"
        literal, pattern = split_key(key)
        listing = Listing(self.client, bucket, pattern, self.window, url)
        found = [self._source(bucket, obj) for obj in listing.objects(literal)]
        if not any(isinstance(s, S3Source) for s in found):
            raise InputError(self._nothing_matched(url, pattern, listing.pruned))
        return found

    def plan(self, sources: Iterable[Source]) -> None:
        """Called with the run's final list of sources, so objects are fetched ahead in reading order."""
        if self._reader is not None:
            self._reader.plan(s for s in sources if isinstance(s, S3Source))

    def _exact_object(self, bucket: str, key: str, url: str) -> dict[str, Any] | None:
        """The object named exactly `key`, if there is one (the first key listed under it is itself)."""
        with s3_errors(url, bucket):
            page = self.client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
        contents = page.get("Contents", [])
        return contents[0] if contents and contents[0]["Key"] == key else None

    def _source(self, bucket: str, obj: dict[str, Any]) -> S3Source | SkippedFile:
        key = obj["Key"]
        if obj.get(SKIPPED):
            return SkippedFile(f"s3://{bucket}/{key}", None, 0)
        return S3Source(f"s3://{bucket}/{key}", None, int(obj.get("Size", 0)), bucket, key, self.reader)

    def _nothing_matched(self, url: str, pattern: KeyPattern, pruned: int) -> str:
        if pattern.segments:
            found = f"no objects match {url}"
        else:
            found = f"no log objects ({LOG_FILES}) under {url.rstrip('/')}/"
        if pruned:
            found += f" ({pruned:,} date folder(s) outside the --since/--until window were skipped)"
        return found
