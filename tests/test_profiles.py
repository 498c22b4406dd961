"""Profiles per group, checked against numpy and plain counting on the same synthetic requests."""

from __future__ import annotations

import numpy as np
import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from aiobs.metrics import PERCENTILES
from aiobs.profiles import from_records, profile_requests, to_records
from synthetic import make_requests

REQUESTS = make_requests(2500, seed=3, flags={"refusal": 0.05, "empty": 0.01})


def test_groups_and_numbers() -> None:
    profiles = profile_requests(REQUESTS.lazy())
    groups = list(zip(profiles["dimension"], profiles["key"], strict=True))
    assert groups[0] == ("overall", None)
    assert {k for d, k in groups if d == "model"} == set(REQUESTS["model"])
    assert {k for d, k in groups if d == "route"} == set(REQUESTS["route"])
    assert {k for d, k in groups if d == "stage"} == {"llm", "retrieval"}
    for row in profiles.iter_rows(named=True):
        if row["dimension"] == "stage":
            latency = REQUESTS[f"{row['key']}_ms"].to_numpy()
            assert row["cost_usd"] is None and row["priced"] == 0
            assert row["requests"] == REQUESTS.height
        else:
            rows = (
                REQUESTS if row["dimension"] == "overall" else REQUESTS.filter(pl.col(row["dimension"]) == row["key"])
            )
            latency = rows["latency_ms"].to_numpy()
            cost = rows["cost_usd"].to_numpy()
            assert row["requests"] == rows.height
            assert row["errors"] == rows["is_error"].sum()
            assert row["cost_usd"] == pytest.approx(cost.sum())
            assert row["cost_sq"] == pytest.approx((cost**2).sum())
            flags = {f["name"]: (f["hits"], f["n"]) for f in row["flags"]}
            assert flags == {
                "empty": (rows["flag_empty"].sum(), rows.height),
                "refusal": (rows["flag_refusal"].sum(), rows.height),
            }
            feedback = rows["feedback_score"].drop_nulls().to_numpy()
            assert (row["feedback_n"], row["feedback_accepted"]) == (feedback.size, (feedback >= 0.5).sum())
        for name, q in PERCENTILES:
            assert row[f"latency_{name}"] == pytest.approx(np.percentile(latency, q * 100))
        assert sum(b["n"] for b in row["latency_sketch"]) == row["latency_n"] == latency.size


def test_hourly_profiles_add_up_to_the_whole() -> None:
    hourly = profile_requests(REQUESTS.lazy(), every="1h")
    overall = hourly.filter(pl.col("dimension") == "overall")
    assert overall.height == 24
    assert overall["requests"].sum() == REQUESTS.height
    assert overall["errors"].sum() == REQUESTS["is_error"].sum()
    by_hour = REQUESTS.group_by(pl.col("start").dt.truncate("1h").alias("bucket")).len().sort("bucket")
    assert overall.select("bucket", pl.col("requests").cast(pl.UInt32).alias("len")).equals(by_hour)


def test_json_round_trip() -> None:
    profiles = profile_requests(REQUESTS.lazy())
    back = from_records(orjson.loads(orjson.dumps(to_records(profiles))))
    assert_frame_equal(back, profiles)


def test_a_plain_request_table_has_empty_flags_and_no_feedback() -> None:
    profiles = profile_requests(make_requests(300, seed=1, flags=None, feedback_share=0).lazy())
    assert profiles["flags"].list.len().sum() == 0
    assert profiles["feedback_n"].sum() == 0


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"dimension": "overall"}, "profile 1: missing latency_ms"),
        ("not a record", "profile 1"),
    ],
)
def test_malformed_records(broken: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_records([broken])
    with pytest.raises(ValueError, match="must be a list"):
        from_records({"a": 1})
