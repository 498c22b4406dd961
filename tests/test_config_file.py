"""aiobs.toml: the [input] section's line limit (the other keys are tested with what they configure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiobs.config import load_config
from aiobs.errors import UsageError
from aiobs.sources.read import MAX_LINE_BYTES


def test_the_line_limit_defaults_to_64_mb(tmp_path: Path) -> None:
    (tmp_path / "aiobs.toml").write_text("[input]\n")
    assert load_config(cwd=tmp_path).max_line_bytes == MAX_LINE_BYTES == 64 << 20


def test_max_line_mb_sets_the_limit(tmp_path: Path) -> None:
    (tmp_path / "aiobs.toml").write_text("[input]\nmax_line_mb = 200\n")
    assert load_config(cwd=tmp_path).max_line_bytes == 200 << 20


@pytest.mark.parametrize("value", ["0", "-1", "4096", "1.5", '"64"', "true"])
def test_a_bad_line_limit_is_one_sentence(tmp_path: Path, value: str) -> None:
    (tmp_path / "aiobs.toml").write_text(f"[input]\nmax_line_mb = {value}\n")
    with pytest.raises(UsageError, match=r"input.max_line_mb must be a whole number of megabytes from 1 to 2048$"):
        load_config(cwd=tmp_path)


def test_an_unknown_input_key_names_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "aiobs.toml").write_text("[input]\nmax_line = 10\n")
    message = r"unknown key input.max_line; did you mean max_line_mb\? \(known: format, .*, max_line_mb\)"
    with pytest.raises(UsageError, match=message):
        load_config(cwd=tmp_path)


def test_a_mistyped_section_or_field_is_named_with_the_right_one(tmp_path: Path) -> None:
    (tmp_path / "aiobs.toml").write_text('[slos]\nlatency = "p95(latency_ms) < 3000"\n')
    with pytest.raises(UsageError, match=r"unknown section\(s\) slos; did you mean slo\?"):
        load_config(cwd=tmp_path)
    (tmp_path / "aiobs.toml").write_text('[mapping]\ncorelation_id = "meta.rid"\n')
    with pytest.raises(
        UsageError, match=r"mapping.corelation_id: cannot map 'corelation_id'; did you mean correlation_id\?"
    ):
        load_config(cwd=tmp_path)


def test_a_config_that_is_a_device_says_so(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^config file is not a regular file: /dev/zero$"):
        load_config(Path("/dev/zero"))
    with pytest.raises(UsageError, match=r"^config file not found: "):
        load_config(tmp_path / "missing.toml")
