"""Reading S3 objects: compressed streams, objects gone or unreadable, throttling and broken connections.

Faults come from a small HTTP proxy between aiobs and moto's server (both on loopback): it answers
503 SlowDown, or cuts a response body in half, on the requests a test plans.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from aiobs.errors import InputError
from aiobs.issues import IssueLog
from aiobs.sources import s3_objects
from aiobs.sources.paths import expand_inputs
from aiobs.sources.read import iter_bytes, iter_chunks
from aiobs.sources.s3_objects import S3Source
from conftest import S3Bucket

pytestmark = pytest.mark.s3

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"
SLOWDOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message><RequestId>test</RequestId></Error>"
)


@dataclass
class Fault:
    kind: str  # "slowdown" or "cut"
    method: str
    path_contains: str
    times: int = 1


@dataclass
class FaultyProxy:
    """Relays requests to the S3 server, except those a planned fault matches."""

    url: str
    faults: list[Fault] = field(default_factory=list)
    served: list[tuple[str, str, str]] = field(default_factory=list)  # (fault or "ok", method, path)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, kind: str, method: str, path_contains: str, times: int = 1) -> None:
        self.faults.append(Fault(kind, method, path_contains, times))

    def take(self, method: str, path: str) -> str:
        with self.lock:
            for fault in self.faults:
                if fault.times and fault.method == method and fault.path_contains in path:
                    fault.times -= 1
                    self.served.append((fault.kind, method, path))
                    return fault.kind
            self.served.append(("ok", method, path))
            return "ok"

    def count(self, kind: str) -> int:
        return sum(1 for served, _, _ in self.served if served == kind)


def _handler(proxy: FaultyProxy, upstream: str) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(upstream)

    class Relay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            fault = proxy.take(self.command, self.path)
            if fault == "slowdown":
                self.send_response(503)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(SLOWDOWN)))
                self.end_headers()
                self.wfile.write(SLOWDOWN)
                return
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "connection"}}
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            connection.close()
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in {"content-length", "transfer-encoding", "connection", "date", "server"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            if fault == "cut":  # promise the whole body, send half, hang up
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.close_connection = True
                return
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_HEAD = do_PUT = do_POST = do_DELETE = do_GET

    return Relay


@pytest.fixture
def proxy(s3_endpoint: str) -> Iterator[FaultyProxy]:
    state = FaultyProxy("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, s3_endpoint))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def read_all(source: S3Source | Any, issues: IssueLog, block: int = 1 << 20) -> bytes:
    return b"".join(iter_bytes(source, issues, block))


def local_bytes(path: Path) -> bytes:
    return read_all(expand_inputs([str(path)])[0], IssueLog())


# -- streams ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["chatbot.jsonl", "rag/2026-11-28.jsonl.gz", "rag/2026-11-29.jsonl.zst"])
def test_objects_read_to_the_same_bytes_as_the_local_files(s3_bucket: S3Bucket, name: str) -> None:
    s3_bucket.put(f"app/{name}", (SAMPLES / name).read_bytes())
    [source] = expand_inputs([s3_bucket.url(f"app/{name}")], endpoint_url=s3_bucket.endpoint)
    issues = IssueLog()
    assert read_all(source, issues) == local_bytes(SAMPLES / name)
    assert not issues.counts


def test_compression_comes_from_the_bytes_and_content_encoding_is_not_undone_twice(s3_bucket: S3Bucket) -> None:
    data = (SAMPLES / "rag/2026-11-28.jsonl.gz").read_bytes()
    s3_bucket.put("app/named-plain.jsonl", data)
    s3_bucket.put("app/encoded.jsonl.gz", data, ContentEncoding="gzip", ContentType="application/x-ndjson")
    expected = local_bytes(SAMPLES / "rag/2026-11-28.jsonl.gz")
    for source in expand_inputs([s3_bucket.url("app/")], endpoint_url=s3_bucket.endpoint):
        assert read_all(source, IssueLog()) == expected, source.name


def test_large_objects_stream_in_blocks(s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    """Objects above PRELOAD_BYTES are read from the connection as the reader asks, block by block."""
    monkeypatch.setattr(s3_objects, "PRELOAD_BYTES", 0)
    data = (SAMPLES / "chatbot.jsonl").read_bytes()
    s3_bucket.put("big/a.jsonl", data)
    s3_bucket.put("big/b.jsonl", data)
    sources = expand_inputs([s3_bucket.url("big/")], endpoint_url=s3_bucket.endpoint)
    for source in sources:
        stream = source.open()
        sizes = []
        while block := stream.read(64 << 10):
            sizes.append(len(block))
        stream.close()
        assert sum(sizes) == len(data)
        assert max(sizes) <= 64 << 10 and len(sizes) >= len(data) // (64 << 10)
    chunks = list(iter_chunks(sources[0], IssueLog(), 128 << 10))
    assert len(chunks) > 1
    assert b"".join(c.data for c in chunks) == data
    assert chunks[0].first_line == 1 and chunks[1].first_line == chunks[0].line_count + 1


# -- objects that cannot be read ----------------------------------------------------------------------


@pytest.mark.parametrize("ahead", [0, 4])
def test_an_object_deleted_after_listing_is_a_missing_object_issue(
    s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch, ahead: int
) -> None:
    monkeypatch.setattr(s3_objects, "FETCH_AHEAD", ahead)
    line = b'{"request_id":"r","event":"llm"}\n'
    s3_bucket.seed({f"logs/{i}.jsonl": line for i in range(5)})
    sources = expand_inputs([s3_bucket.url("logs/")], endpoint_url=s3_bucket.endpoint)
    s3_bucket.client.delete_object(Bucket=s3_bucket.name, Key="logs/1.jsonl")
    s3_bucket.client.delete_object(Bucket=s3_bucket.name, Key="logs/3.jsonl")
    issues = IssueLog()
    assert [read_all(s, issues) for s in sources] == [line, b"", line, b"", line]
    assert dict(issues.counts) == {"missing-object": 2}
    assert [i.source for i in issues.examples["missing-object"]] == [
        s3_bucket.url("logs/1.jsonl"),
        s3_bucket.url("logs/3.jsonl"),
    ]
    assert all(i.line is None and "deleted during the run" in i.message for i in issues.examples["missing-object"])


def test_an_object_the_credentials_may_not_get_is_an_unreadable_object_issue(
    s3_bucket: S3Bucket, iam_user: Callable[[dict[str, Any]], tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    line = b'{"request_id":"r","event":"llm"}\n'
    s3_bucket.seed({"logs/open/a.jsonl": line, "logs/secret/b.jsonl": line})
    bucket_arn = f"arn:aws:s3:::{s3_bucket.name}"
    key_id, secret = iam_user(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket_arn}/logs/open/*"},
            ],
        }
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    sources = expand_inputs([s3_bucket.url("logs/")], endpoint_url=s3_bucket.endpoint)
    issues = IssueLog()
    assert [read_all(s, issues) for s in sources] == [line, b""]
    assert dict(issues.counts) == {"unreadable-object": 1}
    [issue] = issues.examples["unreadable-object"]
    assert issue.source == s3_bucket.url("logs/secret/b.jsonl")
    assert issue.message.startswith("access denied")


# -- throttling and broken connections ------------------------------------------------------------------


def test_throttled_requests_are_retried(s3_bucket: S3Bucket, proxy: FaultyProxy) -> None:
    s3_bucket.put("app/chatbot.jsonl", (SAMPLES / "chatbot.jsonl").read_bytes())
    proxy.plan("slowdown", "GET", "list-type=2")
    proxy.plan("slowdown", "GET", "/app/chatbot.jsonl")
    [source] = expand_inputs([s3_bucket.url("app/")], endpoint_url=proxy.url)
    issues = IssueLog()
    assert read_all(source, issues) == (SAMPLES / "chatbot.jsonl").read_bytes()
    assert not issues.counts
    assert proxy.count("slowdown") == 2
    assert [kind for kind, _, _ in proxy.served] == ["slowdown", "ok", "slowdown", "ok"]


def test_throttling_through_every_retry_is_one_clear_error(
    s3_bucket: S3Bucket, proxy: FaultyProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    proxy.plan("slowdown", "GET", "list-type=2", times=2)
    with pytest.raises(InputError, match=r"^cannot read s3://\S+: S3 kept throttling \(SlowDown\) through every retry"):
        expand_inputs([s3_bucket.url("app/")], endpoint_url=proxy.url)
    assert proxy.count("slowdown") == 2


@pytest.mark.parametrize("ahead", [0, 4])
def test_a_body_cut_off_midway_is_fetched_again_from_where_it_broke(
    s3_bucket: S3Bucket, proxy: FaultyProxy, monkeypatch: pytest.MonkeyPatch, ahead: int
) -> None:
    monkeypatch.setattr(s3_objects, "FETCH_AHEAD", ahead)
    names = ["chatbot.jsonl", "rag/2026-11-28.jsonl.gz", "rag/2026-11-29.jsonl.zst"]
    s3_bucket.seed({f"app/{n}": (SAMPLES / n).read_bytes() for n in names})
    for name in names:
        proxy.plan("cut", "GET", f"/app/{name}")
    sources = expand_inputs([s3_bucket.url("app/")], endpoint_url=proxy.url)
    issues = IssueLog()
    for source, name in zip(sources, names, strict=True):
        assert read_all(source, issues) == local_bytes(SAMPLES / name)
    assert not issues.counts
    assert proxy.count("cut") == 3
    ranged = [path for kind, method, path in proxy.served if kind == "ok" and "/app/" in path]
    assert len(ranged) == 3  # one ranged GET per cut object


def test_a_body_that_keeps_breaking_is_an_os_error_after_a_few_attempts(
    s3_bucket: S3Bucket, proxy: FaultyProxy
) -> None:
    s3_bucket.put("app/chatbot.jsonl", (SAMPLES / "chatbot.jsonl").read_bytes())
    proxy.plan("cut", "GET", "/app/chatbot.jsonl", times=s3_objects.READ_ATTEMPTS)
    [source] = expand_inputs([s3_bucket.url("app/")], endpoint_url=proxy.url)
    with pytest.raises(OSError, match=rf"reading {source.name} broke off {s3_objects.READ_ATTEMPTS} times"):
        read_all(source, IssueLog())


def test_client_retry_settings(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    client = s3_objects.connect()
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": s3_objects.DEFAULT_ATTEMPTS}
    assert client.meta.config.connect_timeout == s3_objects.CONNECT_TIMEOUT
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    assert s3_objects.connect().meta.config.retries == {"mode": "adaptive", "total_max_attempts": 3}


@pytest.mark.parametrize("ahead", [0, 4])
def test_the_next_objects_are_fetched_while_one_is_read(
    s3_bucket: S3Bucket, proxy: FaultyProxy, monkeypatch: pytest.MonkeyPatch, ahead: int
) -> None:
    monkeypatch.setattr(s3_objects, "FETCH_AHEAD", ahead)
    s3_bucket.seed({f"logs/{i}.jsonl": b'{"request_id":"r"}\n' for i in range(8)})
    sources = expand_inputs([s3_bucket.url("logs/")], endpoint_url=proxy.url)
    assert isinstance(sources[0], S3Source) and sources[0].reader is not None
    stream = sources[0].open()
    for future in list(sources[0].reader._fetches.values()):
        future.result(timeout=30)
    stream.close()
    fetched = [path for _, method, path in proxy.served if method == "GET" and "list-type" not in path]
    assert fetched[0] == f"/{s3_bucket.name}/logs/0.jsonl"  # the object being read goes first
    assert sorted(fetched) == [f"/{s3_bucket.name}/logs/{i}.jsonl" for i in range(1 + ahead)]
