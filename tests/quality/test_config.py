"""`[quality]` in aiobs.toml: thresholds, refusal phrases, JSON routes and custom rules, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiobs.config import load_config
from aiobs.errors import UsageError
from aiobs.quality import CustomRule, QualityConfig, parse_quality_config


def test_defaults_without_a_section(tmp_path: Path) -> None:
    (tmp_path / "aiobs.toml").write_text("[mapping]\n", encoding="utf-8")
    assert load_config(cwd=tmp_path).quality == QualityConfig()


def test_thresholds_rules_and_phrases(tmp_path: Path) -> None:
    (tmp_path / "aiobs.toml").write_text(
        """
[quality]
max_output_chars = 6000
slow_tokens_per_s = 12.5
json_routes = ["/extract"]
refusal_phrases = ["we do not discuss"]

[[quality.rules]]
name = "competitor"
contains = ["acme"]
routes = "/chat"
""",
        encoding="utf-8",
    )
    quality = load_config(cwd=tmp_path).quality
    assert quality.max_output_chars == 6000
    assert quality.slow_tokens_per_s == 12.5
    assert quality.json_routes == ("/extract",)
    assert quality.refusal_phrases == ("we do not discuss",)
    assert quality.rules == (CustomRule("competitor", contains=("acme",), routes=("/chat",)),)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"max_output_char": 5}, "unknown key(s) max_output_char"),
        ({"max_output_chars": "many"}, "max_output_chars must be a number >= 0"),
        ({"max_output_chars": -1}, "max_output_chars must be a number >= 0"),
        ({"refusal_phrases": ["(unclosed"]}, "invalid regular expression"),
        ({"rules": [{"name": "Bad Name", "contains": ["x"]}]}, "name must be lower-case"),
        ({"rules": [{"name": "refusal", "contains": ["x"]}]}, "is a built-in flag"),
        ({"rules": [{"name": "x"}]}, "give at least one of regex, contains"),
        ({"rules": [{"name": "x", "regex": "[a-"}]}, "invalid regular expression"),
        ({"rules": [{"name": "x", "contains": ["y"], "field": "context"}]}, "field must be one of output, input"),
        ({"rules": [{"name": "x", "contains": "y"}, {"name": "x", "contains": "z"}]}, "same name"),
        ({"rules": {"name": "x"}}, "array of tables"),
    ],
)
def test_mistakes_are_one_clear_error(data: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_quality_config(data, "aiobs.toml")
