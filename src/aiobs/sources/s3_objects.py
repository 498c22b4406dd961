"""Reading S3 objects: the client (botocore's credential chain, endpoint and retries, with aiobs's
defaults), each object's body as a stream that resumes where a connection broke, and a reader that
fetches the next few objects ahead of the one being read.

botocore does the AWS part: the credential chain (environment, profiles and config files, SSO,
instance roles), `AWS_ENDPOINT_URL`, request signing, and retries: "standard" mode (exponential
backoff with jitter on SlowDown, 503 and other throttling or transient errors), 8 attempts in all
unless `AWS_MAX_ATTEMPTS`/`AWS_RETRY_MODE` or the profile say otherwise.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    ResponseStreamingError,
)

from aiobs import __version__
from aiobs.errors import UsageError
from aiobs.sources.base import Source, SourceUnavailable
from aiobs.sources.s3_errors import GONE_CODES, describe_client_error

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

_STREAM_ERRORS = (HTTPClientError, ResponseStreamingError, IncompleteReadError)


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
            if code in GONE_CODES:
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
            if code in GONE_CODES:
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
