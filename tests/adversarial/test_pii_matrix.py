"""Personal data and secrets in every log-derived field, through every command and output format.

Each PII kind aiobs knows is planted in every label field (model, provider, route, user, finish reason,
error type, event name) and in the texts. By default no output may contain any planted value; with
`--no-redact` the outputs that show a field show it as logged (so the matrix cannot pass by showing
nothing). This is the regression test for issue 11's 234 leaking (kind x output) pairs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.pii import PATTERNS

runner = CliRunner()

#: At least one value of each kind (`kind-variant` for more), as it would sit in a log field.
SECRETS: dict[str, str] = {
    "private_key": "-----BEGIN RSA PRIVATE KEY-----",
    "api_key": "AKIAIOSFODNN7EXAMPLE",
    "secret": "password=hunter2hunter2",
    "secret-bearer": "Authorization: Bearer abcDEF144ghiJKLmnoPQRstu0123",
    "secret-aws": "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "api_key-hf": "hf_abcdefghijklmnopqrstuvwxyz0123456",
    "email": "alice@example.com",
    "iban": "DE89 3704 0044 0532 0130 00",
    "card": "4111 1111 1111 1111",
    "ssn": "123-45-6789",
    "phone": "+1 415-555-0132",
    "ipv4": "203.0.113.45",
    "ipv6": "2001:db8:85a3::8a2e:370:7334",
}
LABELS = ("model", "provider", "route", "user_id", "finish_reason", "error_type", "event")


def test_every_kind_has_a_secret() -> None:
    assert {name.split("-")[0] for name in SECRETS} == set(PATTERNS)


def rows() -> list[dict[str, Any]]:
    """Per kind, one request whose every label carries that kind's value (and its texts too), plus a
    second request with the same values so that thresholds (groups of 30 in check, p99) have data."""
    out = []
    for n, (kind, value) in enumerate(SECRETS.items()):
        for copy in range(2):
            rid = f"r-{kind}-{copy}"
            start = f"2026-11-28T10:{n:02d}:{copy:02d}Z"
            out.append({"ts": start, "request_id": rid, "event": "gateway", "route": f"/r/{value}", "status": 500,
                        "latency_ms": 900 + 10 * n + copy, "user_id": value})  # fmt: skip
            out.append(
                {
                    "ts": start,
                    "request_id": rid,
                    "event": f"llm {value}",
                    "model": f"m {value}",
                    "provider": value,
                    "user_id": value,
                    "route": f"/r/{value}",
                    "finish_reason": value,
                    "error_type": value,
                    "status": "error",
                    "latency_ms": 800 + n,
                    "input_tokens": 10,
                    "output_tokens": 5,
                    "input": f"my data is {value}",
                    "output": f"noted: {value}",
                }
            )
    return out


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pii") / "app.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows()))
    return path


def outputs(log: Path, tmp: Path, *extra: str) -> dict[str, str]:
    """Every output aiobs writes for this log, by name."""
    texts: dict[str, str] = {}

    def run(name: str, *args: str, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> None:
        result = runner.invoke(app, list(args), env={"COLUMNS": "250", **(env or {})})
        assert result.exit_code in ok, (name, result.output)
        texts[name] = result.stdout

    src = str(log)
    for fmt in ("terminal", "json", "md", "csv"):
        run(
            f"summarize {fmt}",
            "summarize",
            src,
            "--format",
            fmt,
            "--by",
            "user",
            "--by",
            "route",
            "--by",
            "model",
            *extra,
        )
        run(f"outliers {fmt}", "outliers", src, "--p", "0", "--format", fmt, *extra)
    run("trace terminal", "trace", src, "--id", "r-email-0", *extra)
    run("trace json", "trace", src, "--id", "r-email-0", "--format", "json", *extra)
    for suffix in ("html", "md"):
        target = tmp / f"report.{suffix}"
        run(f"report {suffix}", "report", src, "-o", str(target), *extra)
        texts[f"report {suffix} file"] = target.read_text(encoding="utf-8")
    junit, step = tmp / "junit.xml", tmp / "step.md"
    slos = ("--slo", "error_rate < 1% by user", "--slo", "p95(latency_ms) < 1s by route")
    check_args = ("check", src, *slos, "--junit", str(junit), *extra)
    run("check terminal", *check_args, env={"GITHUB_STEP_SUMMARY": str(step)}, ok=(1,))
    texts["check junit"], texts["check step summary"] = junit.read_text(), step.read_text()
    store = tmp / "store"
    run("summarize --history", "summarize", src, "--history", str(store), *extra)
    run("history terminal", "history", str(store), "--by", "route", *extra)
    run("history json", "history", str(store), "--by", "model", "--format", "json", *extra)
    texts["history store"] = b" ".join(p.read_bytes() for p in store.rglob("*.parquet")).decode("latin-1")
    return texts


def test_no_output_shows_a_secret_by_default(log: Path, tmp_path: Path) -> None:
    leaks = [
        f"{name}: {kind}"
        for name, text in outputs(log, tmp_path).items()
        for kind, value in SECRETS.items()
        if value in text or value.replace(" ", "") in text or json.dumps(value)[1:-1] in text
    ]
    assert leaks == []


def test_no_redact_shows_what_was_logged(log: Path, tmp_path: Path) -> None:
    """The matrix must be able to fail: with --no-redact the same outputs carry the values."""
    texts = outputs(log, tmp_path, "--no-redact")
    for name in ("summarize terminal", "summarize json", "outliers json", "trace json", "check junit", "history json"):
        assert SECRETS["email"] in texts[name], name


def test_hash_users_hashes_them_everywhere(log: Path, tmp_path: Path) -> None:
    texts = outputs(log, tmp_path, "--hash-users")
    assert "user-" in texts["summarize json"]
    assert "user-" in texts["report html file"]  # before: report --hash-users left users as they were
    for name, text in texts.items():
        assert SECRETS["email"] not in text, name
