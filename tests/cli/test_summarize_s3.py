"""`aiobs summarize s3://...` against a real S3 endpoint (moto's server on loopback).

Every result is checked against the same files read locally: the JSON documents must be equal once
the sources' names are mapped (`s3://bucket/key` -> the local path); only `generated_at` differs.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import Result
from typer.testing import CliRunner

import aiobs.api
from aiobs.cli import app
from aiobs.cli.common import ExitCode
from aiobs.sources.base import LOG_FILES
from conftest import S3Bucket

pytestmark = pytest.mark.s3

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"
SAMPLE_FILES = ["chatbot.jsonl", "rag/2026-11-28.jsonl.gz", "rag/2026-11-29.jsonl.zst"]
ENV = {"COLUMNS": "200"}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["summarize", *args], env=ENV)


def summary_json(*args: str) -> dict[str, Any]:
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = orjson.loads(result.stdout)
    return doc


def renamed(doc: Any, names: dict[str, str]) -> Any:
    """The document with every string that is a source name replaced by its local name.

    Floats are compared as they are: sums are exact (aiobs.exact), whatever order the engine adds them in.
    """
    if isinstance(doc, dict):
        return {k: renamed(v, names) for k, v in doc.items() if k != "generated_at"}
    if isinstance(doc, list):
        return [renamed(v, names) for v in doc]
    return names.get(doc, doc) if isinstance(doc, str) else doc


def assert_same_summary(
    remote: dict[str, Any], local: dict[str, Any], names: dict[str, str], skipped: dict[str, str] | None = None
) -> None:
    """`names`: the objects read, by their local names; `skipped`: those listed and not read (README.md)."""
    assert sorted(remote["inputs"]) == sorted(names), "read other objects than expected"
    assert renamed(remote, {**names, **(skipped or {})}) == renamed(local, {})


def assert_one_line_error(result: Result, code: int = ExitCode.USAGE) -> str:
    assert result.exit_code == code, (result.exit_code, result.output)
    err = result.stderr.strip()
    assert err.startswith("aiobs: "), err
    assert "\n" not in err, err
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return err


@pytest.fixture
def samples_in_s3(s3_bucket: S3Bucket) -> dict[str, str]:
    """The repository's sample_logs/ under app/; returns S3 name -> local name."""
    s3_bucket.seed({f"app/{name}": (SAMPLES / name).read_bytes() for name in [*SAMPLE_FILES, "README.md"]})
    return {s3_bucket.url(f"app/{name}"): str(SAMPLES / name) for name in SAMPLE_FILES}


def test_sample_logs_from_s3_give_the_local_summary(s3_bucket: S3Bucket, samples_in_s3: dict[str, str]) -> None:
    grouping = ["--by", "model", "--by", "route", "--by", "stage", "--every", "6h"]
    remote = summary_json(s3_bucket.url("app/"), "--endpoint-url", s3_bucket.endpoint, *grouping)
    local = summary_json(str(SAMPLES), *grouping)
    assert remote["overall"]["requests"] == 2600
    assert {k["code"] for k in remote["input_quality"]["by_kind"]} >= {"invalid-json", "missing-root", "skipped-file"}
    assert_same_summary(remote, local, samples_in_s3, {s3_bucket.url("app/README.md"): str(SAMPLES / "README.md")})


def test_terminal_report_names_the_objects_with_line_numbers(
    s3_bucket: S3Bucket, samples_in_s3: dict[str, str]
) -> None:
    result = invoke(s3_bucket.url("app/"), "--endpoint-url", s3_bucket.endpoint)
    assert result.exit_code == 0, result.output
    local = invoke(str(SAMPLES)).stdout
    headline = local.splitlines()[0]  # aiobs summary  2,600 requests from N events in 3 input(s)
    assert headline in result.stdout
    first_bad = next(e for k in summary_json(str(SAMPLES))["input_quality"]["by_kind"] if k["code"] == "invalid-json"
                     for e in k["examples"])  # fmt: skip
    assert f"invalid-json  {s3_bucket.url('app/chatbot.jsonl')}:{first_bad['line']}" in result.stdout


def test_aws_endpoint_url_from_the_environment(
    s3_bucket: S3Bucket, samples_in_s3: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_bucket.endpoint)
    remote = summary_json(s3_bucket.url("app/chatbot.jsonl"))
    local = summary_json(str(SAMPLES / "chatbot.jsonl"))
    assert_same_summary(remote, local, {s3_bucket.url("app/chatbot.jsonl"): str(SAMPLES / "chatbot.jsonl")})


@pytest.fixture
def partitioned(s3_bucket: S3Bucket, tmp_path: Path) -> Path:
    """The samples in day folders (app/2026/11/DD/), one small log in each other day of Oct-Dec 2026;
    the same tree locally under the returned folder."""
    local = tmp_path / "mirror"
    layout = {
        "app/2026/11/28/chatbot.jsonl": SAMPLES / "chatbot.jsonl",
        "app/2026/11/28/rag.jsonl.gz": SAMPLES / "rag/2026-11-28.jsonl.gz",
        "app/2026/11/29/rag.jsonl.zst": SAMPLES / "rag/2026-11-29.jsonl.zst",
    }
    objects = {key: path.read_bytes() for key, path in layout.items()}
    for month, days in ((10, 31), (11, 30), (12, 31)):
        for day in range(1, days + 1):
            if (month, day) not in {(11, 28), (11, 29)}:
                row = {"ts": f"2026-{month:02d}-{day:02d}T12:00:00Z", "request_id": f"f-{month}-{day}", "event": "llm"}
                objects[f"app/2026/{month:02d}/{day:02d}/filler.jsonl"] = orjson.dumps(row) + b"\n"
    for key, data in objects.items():
        (local / key).parent.mkdir(parents=True, exist_ok=True)
        (local / key).write_bytes(data)
    s3_bucket.seed(objects)
    return local


def test_a_glob_over_day_folders_gives_the_local_summary(s3_bucket: S3Bucket, partitioned: Path) -> None:
    pattern = "app/2026/11/**/*.jsonl*"
    remote = summary_json(s3_bucket.url(pattern), "--endpoint-url", s3_bucket.endpoint, "--by", "model")
    local = summary_json(f"{partitioned}/{pattern}", "--by", "model")
    names = {s3_bucket.url(n.removeprefix(f"{partitioned}/")): n for n in local["inputs"]}
    assert len(names) == 28 + 3  # the fillers of November, and the samples
    assert_same_summary(remote, local, names)


@pytest.mark.parametrize("url", ["app/", "app/2026/**/*.jsonl*"])
def test_a_window_reads_only_the_day_folders_it_overlaps(s3_bucket: S3Bucket, partitioned: Path, url: str) -> None:
    """The day folders the window overlaps, with an hour's slack at each edge, and the result of reading
    every file: a request that began just before --since must be seen whole to be left out (before: a
    phantom request from its later events, 1,441 instead of 1,440)."""
    window = ["--since", "2026-11-28", "--until", "2026-11-29T00:00Z"]
    remote = summary_json(s3_bucket.url(url), "--endpoint-url", s3_bucket.endpoint, *window, "--by", "route")
    read = ["app/2026/11/27/filler.jsonl", *(f"app/2026/11/28/{n}" for n in ("chatbot.jsonl", "rag.jsonl.gz"))]
    read.append("app/2026/11/29/rag.jsonl.zst")
    assert sorted(remote["inputs"]) == sorted(s3_bucket.url(k) for k in read)
    everything = summary_json(str(partitioned / "app"), *window, "--by", "route")
    for part in ("overall", "groups", "errors_by_rule", "spend_by_model_per_call"):
        assert renamed(remote[part], {}) == renamed(everything[part], {}), part
    assert remote["overall"]["requests"] > 1000


def test_an_object_deleted_between_listing_and_reading_is_counted_and_the_run_goes_on(
    s3_bucket: S3Bucket, samples_in_s3: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = s3_bucket.url("app/rag/2026-11-29.jsonl.zst")
    expand_inputs = aiobs.api.expand_inputs

    def expand_then_delete(*args: Any, **kwargs: Any) -> Any:
        sources = expand_inputs(*args, **kwargs)
        s3_bucket.client.delete_object(Bucket=s3_bucket.name, Key="app/rag/2026-11-29.jsonl.zst")
        return sources

    monkeypatch.setattr(aiobs.api, "expand_inputs", expand_then_delete)
    remote = summary_json(s3_bucket.url("app/"), "--endpoint-url", s3_bucket.endpoint)
    [missing] = [k for k in remote["input_quality"]["by_kind"] if k["code"] == "missing-object"]
    assert missing["count"] == 1
    assert [e["source"] for e in missing["examples"]] == [gone]
    # Everything else is what the two remaining files give locally.
    local = summary_json(str(SAMPLES / "chatbot.jsonl"), str(SAMPLES / "rag/2026-11-28.jsonl.gz"))
    local_kinds = local["input_quality"]["by_kind"]
    [skipped] = [k for k in remote["input_quality"]["by_kind"] if k["code"] == "skipped-file"]
    assert [e["source"] for e in skipped["examples"]] == [s3_bucket.url("app/README.md")]
    remote["input_quality"]["by_kind"] = [
        k for k in remote["input_quality"]["by_kind"] if k["code"] not in ("missing-object", "skipped-file")
    ]
    remote["input_quality"]["problems"] -= 1
    remote["inputs"].remove(gone)
    del samples_in_s3[gone]
    assert_same_summary(
        remote, {**local, "input_quality": {**local["input_quality"], "by_kind": local_kinds}}, samples_in_s3
    )
    strict = invoke(s3_bucket.url("app/"), "--endpoint-url", s3_bucket.endpoint, "--strict", "-f", "json")
    assert strict.exit_code == ExitCode.FOUND_PROBLEMS


# -- errors: one sentence on stderr, exit code 2 ---------------------------------------------------------


def test_no_such_bucket(s3_endpoint: str, aws_env: None) -> None:
    err = assert_one_line_error(invoke("s3://aiobs-no-such-bucket/logs/", "--endpoint-url", s3_endpoint))
    assert err == "aiobs: cannot read s3://aiobs-no-such-bucket/logs/: no such S3 bucket: aiobs-no-such-bucket"


def test_access_denied(
    s3_bucket: S3Bucket,
    samples_in_s3: dict[str, str],
    iam_user: Callable[[dict[str, Any]], tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    key_id, secret = iam_user(policy)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    err = assert_one_line_error(invoke(s3_bucket.url("app/"), "--endpoint-url", s3_bucket.endpoint))
    assert err.startswith(f"aiobs: cannot read {s3_bucket.url('app/')}: access denied")
    assert "s3:ListBucket" in err


def test_credentials_the_endpoint_does_not_know(
    s3_bucket: S3Bucket, iam_user: Callable[[dict[str, Any]], tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    iam_user({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTKNOWNANYWHERE")
    err = assert_one_line_error(invoke(s3_bucket.url("app/"), "--endpoint-url", s3_bucket.endpoint))
    assert "S3 rejected the AWS credentials (InvalidAccessKeyId" in err


def test_no_credentials(s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    err = assert_one_line_error(invoke(s3_bucket.url("app/"), "--endpoint-url", s3_bucket.endpoint))
    assert err.startswith(
        f"aiobs: cannot read {s3_bucket.url('app/')}: no AWS credentials found; set AWS_ACCESS_KEY_ID"
    )


def test_a_profile_that_does_not_exist(s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nightly-reports")
    err = assert_one_line_error(invoke(s3_bucket.url("app/"), "--endpoint-url", s3_bucket.endpoint))
    url = s3_bucket.url("app/")
    assert (
        err
        == f"aiobs: cannot read {url}: the AWS profile 'nightly-reports' is not in ~/.aws/config or ~/.aws/credentials"
    )


def test_a_profile_from_the_config_files(
    s3_bucket: S3Bucket, samples_in_s3: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    credentials = tmp_path / "credentials"
    credentials.write_text("[reports]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    config = tmp_path / "config"
    config.write_text(f"[profile reports]\nregion = eu-west-1\nendpoint_url = {s3_bucket.endpoint}\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "reports")
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # it would win over the profile's endpoint_url
    remote = summary_json(s3_bucket.url("app/chatbot.jsonl"))
    assert remote["overall"]["requests"] == summary_json(str(SAMPLES / "chatbot.jsonl"))["overall"]["requests"]


def test_nothing_matched(s3_bucket: S3Bucket, samples_in_s3: dict[str, str]) -> None:
    endpoint = ["--endpoint-url", s3_bucket.endpoint]
    err = assert_one_line_error(invoke(s3_bucket.url("app/**/*.parquet"), *endpoint))
    assert err == f"aiobs: no objects match {s3_bucket.url('app/**/*.parquet')}"
    s3_bucket.put("docs/notes.txt", b"not a log\n")
    err = assert_one_line_error(invoke(s3_bucket.url("docs"), *endpoint))
    assert err == f"aiobs: no log objects ({LOG_FILES}) under {s3_bucket.url('docs/')}"


def test_nothing_in_the_window(s3_bucket: S3Bucket, partitioned: Path) -> None:
    # A day after the last folder: the hour of slack at the window's edge reaches no folder either.
    result = invoke(s3_bucket.url("app/"), "--endpoint-url", s3_bucket.endpoint, "--since", "2027-01-02")
    err = assert_one_line_error(result)
    assert err.startswith(
        f"aiobs: no log objects (.jsonl, .ndjson, .json, .log, optionally .gz or .zst) under {s3_bucket.url('app/')} ("
    )
    assert err.endswith("date folder(s) outside the --since/--until window were skipped)")


def test_an_endpoint_nobody_listens_on(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with socket.socket() as probe:  # a free loopback port, closed again: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    err = assert_one_line_error(invoke("s3://bucket/logs/", "--endpoint-url", f"http://127.0.0.1:{port}"))
    assert err.startswith(f"aiobs: cannot read s3://bucket/logs/: cannot connect to http://127.0.0.1:{port}/")


def test_an_endpoint_that_is_not_a_url(aws_env: None) -> None:
    err = assert_one_line_error(invoke("s3://bucket/logs/", "--endpoint-url", "127.0.0.1:9000"))
    assert err == "aiobs: --endpoint-url must be an http:// or https:// URL, got '127.0.0.1:9000'"


def test_an_endpoint_in_the_environment_that_is_not_a_url(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "127.0.0.1:9000")
    err = assert_one_line_error(invoke("s3://bucket/logs/"))
    assert err.startswith("aiobs: the S3 endpoint URL is not valid (")
    assert "AWS_ENDPOINT_URL" in err


def test_endpoint_url_is_in_the_help() -> None:
    assert "--endpoint-url" in invoke("--help").stdout
