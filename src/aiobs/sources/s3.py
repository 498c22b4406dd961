"""`s3://` inputs: list the objects a URL names, then read each one as a stream.

A URL names one object (`s3://bucket/logs/app.jsonl.gz`), a prefix read like a local folder
(`s3://bucket/logs/`: every log object under it, by the suffix rules of `is_log_file`), or a key
glob (`s3://bucket/logs/2026/11/**/*.jsonl.gz`: `*`, `?` and `[...]` within a segment, `**` for
any number of segments; a folder the glob matches counts like a prefix).

With a `--since`/`--until` window, date-partitioned folders (`2026/11/28/`, `dt=2026-11-28/`,
`year=2026/month=11/day=28/`; see `aiobs.sources.partitions`) are walked one level at a time with
the `/` delimiter and a folder whose time range does not overlap `[since, until)` is never listed.
Without a window, or below a folder that lies wholly inside it, objects are listed flat (1,000 keys
a call) and filtered here.

botocore does the AWS part: the credential chain (environment, profiles and config files, SSO,
instance roles), `AWS_ENDPOINT_URL`, request signing, and retries: "standard" mode (exponential
backoff with jitter on SlowDown, 503 and other throttling or transient errors), 8 attempts in all
unless `AWS_MAX_ATTEMPTS`/`AWS_RETRY_MODE` or the profile say otherwise. Errors that stop the run
(no credentials, access denied, no such bucket, nothing matched) become one-sentence `InputError`s;
an object that cannot be read once listed is an input issue and the run goes on.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import PurePosixPath
from typing import Any, BinaryIO, cast

import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ResponseStreamingError,
)

from aiobs import __version__
from aiobs.errors import InputError, UsageError
from aiobs.sources.base import GLOB_CHARS, LOG_FILES, Source, SourceUnavailable, is_log_file
from aiobs.sources.partitions import PartitionTime, TimeWindow

#: Keys a list call asks for (S3's maximum); tests make it small to exercise pagination.
LIST_PAGE_SIZE = 1000
#: Attempts per request, the first included, unless AWS_MAX_ATTEMPTS or the profile set it.
DEFAULT_ATTEMPTS = 8
#: Seconds to wait for a connection (each attempt), so a wrong endpoint fails in under a minute.
CONNECT_TIMEOUT = 5
#: A body that breaks off mid-read is fetched again from where it broke, this many times in all.
READ_ATTEMPTS = 3
#: Objects fetched ahead of the one being read: each GET's first byte takes tens of ms on S3,
#: which would dominate for thousands of small objects.
FETCH_AHEAD = 4
#: Objects up to this size are read whole while fetched ahead (memory: FETCH_AHEAD times this).
PRELOAD_BYTES = 8 << 20
#: The delimiter walk stops this many levels below the URL's literal prefix; deeper, it lists flat.
MAX_WALK_DEPTH = 8
#: A level with more folders than this, none of them a date, is listed flat (one call per folder
#: would cost more than the pruning can save).
WIDE_LEVEL = 100

_DENIED = frozenset({"AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidObjectState"})
_REJECTED_CREDENTIALS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"}
)
_THROTTLED = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable"})
_GONE = frozenset({"NoSuchKey", "404", "NotFound"})
_STREAM_ERRORS = (HTTPClientError, ResponseStreamingError, IncompleteReadError)


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


@dataclass(frozen=True)
class S3Source(Source):
    """One S3 object; `name` is its `s3://bucket/key` URL, `size` its listed size."""

    bucket: str = ""
    key: str = ""
    reader: ObjectReader | None = field(default=None, repr=False, compare=False)

    def open(self) -> BinaryIO:
        if self.reader is None:
            msg = f"{self.name} has no reader"
            raise RuntimeError(msg)
        return self.reader.open(self)


_data_loader: Any = None


def _new_session() -> botocore.session.Session:
    """A session that reads credentials and config afresh, but shares one loader of the service models
    with earlier sessions in the process (parsing the S3 model costs ~0.1 s a client otherwise)."""
    global _data_loader
    session = botocore.session.Session()
    if _data_loader is None:
        _data_loader = session.get_component("data_loader")
    else:
        session.register_component("data_loader", _data_loader)
    return session


def connect(*, endpoint_url: str | None = None) -> Any:
    """An S3 client set up the standard AWS way, with aiobs's retry and timeout defaults.

    Raises botocore's exceptions (a profile that does not exist, ...): callers wrap it in `s3_errors`.
    """
    session = _new_session()
    retries = {
        "mode": session.get_config_variable("retry_mode") or "standard",
        "total_max_attempts": int(session.get_config_variable("max_attempts") or DEFAULT_ATTEMPTS),
    }
    config = Config(
        retries=retries,
        connect_timeout=CONNECT_TIMEOUT,
        max_pool_connections=FETCH_AHEAD + 4,
        user_agent_extra=f"aiobs/{__version__}",
    )
    try:
        return session.create_client("s3", endpoint_url=endpoint_url, config=config)
    except ValueError as exc:  # an endpoint URL from AWS_ENDPOINT_URL or the profile that is not one
        msg = f"the S3 endpoint URL is not valid ({exc}); check AWS_ENDPOINT_URL and the profile's endpoint_url"
        raise UsageError(msg) from None


@contextmanager
def s3_errors(what: str, bucket: str | None = None) -> Iterator[None]:
    """botocore's exceptions as one sentence the user can act on (InputError: exit code 2)."""
    try:
        yield
    except NoCredentialsError:
        msg = (
            f"cannot read {what}: no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "choose a profile with AWS_PROFILE, or configure ~/.aws/credentials"
        )
        raise InputError(msg) from None
    except PartialCredentialsError as exc:
        msg = f"cannot read {what}: the AWS credentials are incomplete ({exc})"
        raise InputError(msg) from None
    except ProfileNotFound as exc:
        profile = exc.kwargs.get("profile")
        msg = f"cannot read {what}: the AWS profile '{profile}' is not in ~/.aws/config or ~/.aws/credentials"
        raise InputError(msg) from None
    except (EndpointConnectionError, ConnectTimeoutError) as exc:
        endpoint = exc.kwargs.get("endpoint_url", "the S3 endpoint")
        msg = f"cannot read {what}: cannot connect to {endpoint} (check --endpoint-url, AWS_ENDPOINT_URL, the network)"
        raise InputError(msg) from None
    except ClientError as exc:
        raise InputError(f"cannot read {what}: {describe_client_error(exc, bucket)}") from None
    except BotoCoreError as exc:
        raise InputError(f"cannot read {what}: {exc}") from None


def describe_client_error(exc: ClientError, bucket: str | None = None) -> str:
    """What an S3 error response means, in words."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    detail = error.get("Message") or code
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code == "NoSuchBucket":
        return f"no such S3 bucket: {error.get('BucketName') or bucket}"
    if code in _REJECTED_CREDENTIALS:
        return f"S3 rejected the AWS credentials ({code}: {detail}); check them, or whether they have expired"
    if code == "InvalidObjectState":
        return f"the object is archived ({detail}); restore it before reading it"
    if code in _DENIED or status == 403:
        return f"access denied ({detail}); the credentials need s3:ListBucket on the bucket, s3:GetObject on objects"
    if code in _THROTTLED or status == 503:
        return f"S3 kept throttling ({code or status}) through every retry; try again later or raise AWS_MAX_ATTEMPTS"
    return f"S3 answered {code or status}: {detail}"


class ObjectStream(io.RawIOBase):
    """The body of one GET, resumed with a ranged GET of the same version when the connection breaks."""

    def __init__(self, client: Any, source: S3Source) -> None:
        super().__init__()
        self._client = client
        self._source = source
        self._body: Any = None
        self._preloaded: io.BytesIO | None = None
        self._etag: str | None = None
        self._length: int | None = None
        self._offset = 0
        self._failures = 0

    def start(self) -> None:
        """Send the GET. An object that is gone or unreadable raises SourceUnavailable (an input issue)."""
        try:
            response = self._client.get_object(Bucket=self._source.bucket, Key=self._source.key)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _GONE:
                reason = "listed, then gone when read (deleted during the run?)"
                raise SourceUnavailable("missing-object", reason) from None
            raise SourceUnavailable("unreadable-object", describe_client_error(exc, self._source.bucket)) from None
        except BotoCoreError as exc:
            raise SourceUnavailable("unreadable-object", f"GET failed: {exc}") from None
        self._body = response["Body"]
        self._etag = response.get("ETag")
        self._length = response.get("ContentLength")

    def preload(self) -> None:
        """Read the whole body now (on a fetch-ahead thread), so reading it later waits for nothing."""
        parts = []
        while data := self.read(1 << 20):
            parts.append(data)
        self._preloaded = io.BytesIO(b"".join(parts))

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._preloaded is not None:
            return self._preloaded.read(size)
        amount = None if size is None or size < 0 else size
        while True:
            if self._length is not None and self._offset >= self._length:
                return b""
            try:
                data = self._body.read(amount)
            except _STREAM_ERRORS as exc:
                self._resume(exc)
                continue
            self._offset += len(data)
            return cast(bytes, data)

    def _resume(self, exc: Exception) -> None:
        self._failures += 1
        name = self._source.name
        if self._failures >= READ_ATTEMPTS:
            msg = f"reading {name} broke off {self._failures} times, last at byte {self._offset:,} ({exc})"
            raise OSError(msg) from exc
        self._body.close()
        extra = {"IfMatch": self._etag} if self._etag else {}
        try:
            response = self._client.get_object(
                Bucket=self._source.bucket, Key=self._source.key, Range=f"bytes={self._offset}-", **extra
            )
        except ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", ""))
            if code in _GONE:
                raise OSError(f"{name} was deleted while it was read, at byte {self._offset:,}") from err
            if code == "PreconditionFailed":
                raise OSError(f"{name} was overwritten while it was read, at byte {self._offset:,}") from err
            raise OSError(f"reading {name} again from byte {self._offset:,} failed: {err}") from err
        except BotoCoreError as err:
            raise OSError(f"reading {name} again from byte {self._offset:,} failed: {err}") from err
        self._body = response["Body"]

    def close(self) -> None:
        if self._body is not None:
            self._body.close()
        self._preloaded = None
        super().close()


class ObjectReader:
    """Opens the objects of one run, fetching the next few ahead on a small thread pool."""

    def __init__(self, client: Any, *, ahead: int | None = None, endpoint_url: str | None = None) -> None:
        self._client = client
        #: The --endpoint-url the client was made with (None: AWS_ENDPOINT_URL or AWS S3), for other processes.
        self.endpoint_url = endpoint_url
        self._ahead = FETCH_AHEAD if ahead is None else ahead
        self._order: list[S3Source] = []
        self._position: dict[str, int] = {}
        self._fetches: dict[str, Future[ObjectStream]] = {}
        self._opened: set[str] = set()
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def plan(self, sources: Iterable[S3Source]) -> None:
        """The order the sources will be read in (fetching ahead follows it)."""
        self._order = [s for s in sources if s.reader is self]
        self._position = {s.name: i for i, s in enumerate(self._order)}

    def open(self, source: S3Source) -> BinaryIO:
        with self._lock:
            future = self._fetches.pop(source.name, None)
            self._opened.add(source.name)
        try:  # this object's GET goes first, then the next ones'
            stream = future.result() if future is not None else self._fetch(source, preload=False)
        finally:
            with self._lock:
                self._fetch_ahead(source)
        return cast(BinaryIO, stream)

    def _fetch(self, source: S3Source, *, preload: bool) -> ObjectStream:
        stream = ObjectStream(self._client, source)
        stream.start()
        if preload and source.size is not None and source.size <= PRELOAD_BYTES:
            try:
                stream.preload()
            except BaseException:
                stream.close()
                raise
        return stream

    def _fetch_ahead(self, source: S3Source) -> None:
        position = self._position.get(source.name)
        if position is None or self._ahead <= 0:
            return
        upcoming = self._order[position + 1 : position + 1 + self._ahead]
        for nxt in upcoming:
            if nxt.name in self._fetches or nxt.name in self._opened:
                continue
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._ahead, thread_name_prefix="aiobs-s3")
            self._fetches[nxt.name] = self._pool.submit(self._fetch, nxt, preload=True)
        if self._pool is not None and not self._fetches and position + 1 >= len(self._order):
            self._pool.shutdown(wait=False)
            self._pool = None


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

    def expand(self, url: str) -> list[S3Source]:
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
        if not found:
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

    def _source(self, bucket: str, obj: dict[str, Any]) -> S3Source:
        key = obj["Key"]
        return S3Source(f"s3://{bucket}/{key}", None, int(obj.get("Size", 0)), bucket, key, self.reader)

    def _nothing_matched(self, url: str, pattern: KeyPattern, pruned: int) -> str:
        if pattern.segments:
            found = f"no objects match {url}"
        else:
            found = f"no log objects ({LOG_FILES}) under {url.rstrip('/')}/"
        if pruned:
            found += f" ({pruned:,} date folder(s) outside the --since/--until window were skipped)"
        return found
