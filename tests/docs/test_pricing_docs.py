"""docs/pricing.md stays true: its price-file example prices the sample logs' self-hosted model."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
from typer.testing import CliRunner

from aiobs.cli import app

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "pricing.md").read_text(encoding="utf-8")
LOCAL_MODEL = "llama-3.3-70b-instruct-local"


def summary(*args: str) -> dict:
    result = CliRunner().invoke(app, ["summarize", str(ROOT / "sample_logs"), "--by", "model", "-f", "json", *args])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def test_the_price_file_example_prices_the_sample_logs_local_model(tmp_path: Path) -> None:
    match = re.search(r"```toml\n(\[models\.\"" + re.escape(LOCAL_MODEL) + r"\".*?)```", DOC, re.DOTALL)
    assert match is not None, "docs/pricing.md lost its price-file example"
    prices = tmp_path / "prices.toml"
    prices.write_text(match.group(1), encoding="utf-8")
    [unpriced] = [u for u in summary()["unpriced_models"] if u["model"] == LOCAL_MODEL]
    doc = summary("--prices", str(prices))
    assert not [u for u in doc["unpriced_models"] if u["model"] == LOCAL_MODEL]
    [row] = [r for r in doc["groups"]["model"] if r["key"]["model"] == LOCAL_MODEL]
    entry = match.group(1).split("\n\n")[0]  # the local model's table, not the gpt-4o one after it
    rates = dict(re.findall(r"^(input_per_mtok|output_per_mtok) = ([\d.]+)", entry, re.MULTILINE))
    expected = (unpriced["input_tokens"] * float(rates["input_per_mtok"])) / 1e6 + (
        unpriced["output_tokens"] * float(rates["output_per_mtok"])
    ) / 1e6
    assert abs(row["cost_usd"] - expected) < 1e-12, (row["cost_usd"], expected)
