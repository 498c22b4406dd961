"""Shared fixtures: build JSONL inputs in tmp_path.

`write_jsonl(path, rows_or_lines)` writes each dict with orjson and each `bytes` item as-is (so tests
can plant malformed lines), one per line, and returns the path.

`s3_bucket` is a fresh bucket on moto's S3 server (started once, on a free loopback port), with dummy
credentials set for the test only (`aws_env`).

`ray_cluster` is a local Ray (2 CPUs), started once for every engine test, its workers given the same
dummy credentials (a real cluster's workers have their own).
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

Row = dict[str, Any] | bytes
WriteJsonl = Callable[[Path, Iterable[Row]], Path]


def jsonl_bytes(rows_or_lines: Iterable[Row]) -> bytes:
    """Dicts as orjson lines, bytes lines verbatim; every line ends with a newline."""
    out = bytearray()
    for item in rows_or_lines:
        out += item if isinstance(item, bytes) else orjson.dumps(item)
        out += b"\n"
    return bytes(out)


def _write_jsonl(path: Path, rows_or_lines: Iterable[Row]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jsonl_bytes(rows_or_lines))
    return path


@pytest.fixture
def write_jsonl() -> WriteJsonl:
    return _write_jsonl


# -- hostile logs (report security tests) -------------------------------------------------------------

#: Payloads that would run, break a table or inject markup if any renderer failed to escape them.
PAYLOADS: dict[str, str] = {
    "model": "<script>window.__pwned='model'</script>",
    "route": "<img src=x onerror=\"window.__pwned='route'\">",
    "user": "javascript:window.__pwned='user'",
    "error_type": "</td></tr></table><svg onload=\"window.__pwned='error'\">",
    "output": "| a | b |\n</td><script>window.__pwned='output'</script>[click](javascript:alert(1)) ![x](http://evil.example/x.png)",
    "input": "<iframe src=\"javascript:window.__pwned='input'\"></iframe> **bold** `code` <b>html</b> "
    "mail alice@example.com",
    "id": '"><img src=x onerror="window.__pwned=\'id\'">',
}


def _hostile_rows() -> list[dict[str, Any]]:
    """60 plain requests, and 6 slow ones whose every text field carries a payload (the outliers at p90)."""
    rows: list[dict[str, Any]] = []
    for i in range(66):
        hostile = i >= 60
        rid = (PAYLOADS["id"] + str(i)) if hostile else f"req-{i:03d}"
        minute, second = divmod(i * 47, 60)
        ts = f"2026-11-28T{minute // 60:02d}:{minute % 60:02d}:{second:02d}.000Z"
        latency = 30_000.0 + i * 1000 if hostile else 500.0 + (i * 137) % 2500
        rows.append(
            {
                "ts": ts,
                "request_id": rid,
                "event_id": f"g{i}",
                "event": "gateway",
                "route": PAYLOADS["route"] if hostile else "/chat",
                "user_id": PAYLOADS["user"] if hostile else f"u-{i % 7}",
                "status": 500 if hostile and i % 2 else 200,
                "latency_ms": latency,
            }
        )
        rows.append(
            {
                "ts": ts.replace(".000Z", ".010Z"),
                "request_id": rid,
                "event_id": f"l{i}",
                "parent_id": f"g{i}",
                "event": "llm",
                "model": PAYLOADS["model"] if hostile else ("gpt-4o" if i % 2 else "gpt-4o-mini"),
                "provider": "openai",
                "status": "error" if hostile and i % 2 else "ok",
                "error_type": PAYLOADS["error_type"] if hostile and i % 2 else None,
                "input_tokens": 100 + i,
                "output_tokens": 20 + i,
                "input": PAYLOADS["input"] if hostile else "hello",
                "output": PAYLOADS["output"] if hostile else "hi, call me at +1 415 555 0100",
                "latency_ms": latency - 20,
            }
        )
    return rows


@pytest.fixture
def hostile_logs(tmp_path: Path) -> Path:
    return _write_jsonl(tmp_path / "hostile.jsonl", _hostile_rows())


# -- S3: a real endpoint on loopback (moto's standalone server), for the s3:// tests -----------------


@dataclass
class S3Bucket:
    """A fresh bucket on the test S3 server, with a client (dummy credentials) to fill it."""

    endpoint: str
    name: str
    client: Any

    def url(self, key: str = "") -> str:
        return f"s3://{self.name}/{key}"

    def put(self, key: str, data: bytes, **extra: Any) -> None:
        self.client.put_object(Bucket=self.name, Key=key, Body=data, **extra)

    def seed(self, objects: dict[str, bytes]) -> None:
        """Many objects at once, straight into the server's store (it runs in this process): a PUT over
        HTTP costs ~20 ms, which made layouts of a few hundred objects slow. What aiobs reads still goes
        over HTTP. Falls back to PUTs if moto's internals move."""
        try:
            from moto.core import DEFAULT_ACCOUNT_ID
            from moto.s3.models import s3_backends

            backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
            for key, data in objects.items():
                backend.put_object(self.name, key, data)
        except (ImportError, KeyError, AttributeError, TypeError):
            for key, data in objects.items():
                self.put(key, data)

    def put_tree(self, root: Path, prefix: str = "") -> list[str]:
        """Upload every file under `root` as `prefix` + its relative path; returns the keys."""
        keys = []
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            key = prefix + path.relative_to(root).as_posix()
            self.put(key, path.read_bytes())
            keys.append(key)
        return keys


def s3_test_client(endpoint: str, service: str = "s3") -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


#: Where botocore goes when a test names no endpoint: a loopback port nothing listens on (refused at once).
NO_ENDPOINT = "http://127.0.0.1:9"


@pytest.fixture(autouse=True, scope="session")
def _aws_stays_on_this_machine() -> Iterator[None]:
    """No test reaches AWS or the instance metadata service, whatever it forgets to set."""
    saved = {name: os.environ.get(name) for name in ("AWS_EC2_METADATA_DISABLED", "AWS_ENDPOINT_URL")}
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.environ["AWS_ENDPOINT_URL"] = NO_ENDPOINT
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port, started once per test session."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials for this test only; nothing from the machine's AWS setup, no metadata service."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    empty = tmp_path / "aws-config-empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never look for an instance role off the machine
    monkeypatch.setenv("AWS_ENDPOINT_URL", NO_ENDPOINT)  # tests pass --endpoint-url (or set their own)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def s3_bucket(s3_endpoint: str, aws_env: None) -> S3Bucket:
    name = f"aiobs-test-{uuid.uuid4().hex[:12]}"
    client = s3_test_client(s3_endpoint)
    client.create_bucket(Bucket=name)
    return S3Bucket(s3_endpoint, name, client)


def _set_moto_auth(endpoint: str, count: str) -> None:
    """moto's switch for IAM checks: after `count` more requests, every request is authorised by IAM."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=count.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@pytest.fixture
def iam_user(s3_endpoint: str, aws_env: None) -> Iterator[Callable[[dict[str, Any]], tuple[str, str]]]:
    """Make an IAM user with an inline policy and return its keys; IAM checks are on until the test ends."""

    def make(policy: dict[str, Any]) -> tuple[str, str]:
        iam = s3_test_client(s3_endpoint, "iam")
        name = f"user-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="test", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        _set_moto_auth(s3_endpoint, "0")
        return key["AccessKeyId"], key["SecretAccessKey"]

    try:
        yield make
    finally:
        _set_moto_auth(s3_endpoint, "inf")


@pytest.fixture
def fixtures() -> Path:
    """tests/fixtures/: real and spec-exact files in the formats aiobs reads (sources in each README)."""
    return Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A local Ray shared by the engine tests (starting one takes seconds); `--engine ray` joins it."""
    import ray

    empty = tmp_path_factory.mktemp("ray-aws") / "config"
    empty.write_text("")
    workers_env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": NO_ENDPOINT,
    }
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
        runtime_env={"env_vars": workers_env},
    )
    yield
    ray.shutdown()
