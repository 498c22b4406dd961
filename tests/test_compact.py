import polars as pl
from polars.testing import assert_frame_equal

from aiobs.compact import owned_strings


def test_owned_strings_keep_values_nulls_and_other_columns():
    frame = pl.DataFrame(
        {"text": ["a" * 100, None, "", "ünïcode"], "n": [1, 2, None, 4], "flag": [True, None, False, True]}
    )
    copied = frame.with_columns(owned_strings(frame.schema))
    assert_frame_equal(copied, frame)


def test_owned_strings_touch_string_columns_only():
    schema = pl.Schema({"a": pl.String(), "b": pl.Int64(), "c": pl.String(), "d": pl.Binary()})
    assert [expr.meta.output_name() for expr in owned_strings(schema)] == ["a", "c"]
