"""Quality-flag rates as the report shows them: each over what it was checked on, with its 95 % interval,
and rough where that interval is wide (few requests checked)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from aiobs.gates.stats import wilson_interval
from aiobs.report.labels import flag_title

FLAG_PREFIX = "flag_"
#: z of the 95 % interval drawn around every rate (Wilson's score interval: sound at 0 % and with few requests).
RATE_Z = 1.96
#: A rate whose 95 % interval is wider than this either side (5 points) is shown as rough. At mid rates
#: that is fewer than about 100 requests; "2 of 31" (6.5 %, interval 1.8-20.7 %) is rough, "118 of
#: 2,143" (5.5 %, 4.6-6.6 %) is not, and neither is "0 of 2,600".
ROUGH_HALF_WIDTH = 0.05


@dataclass(frozen=True)
class Rate:
    """`hits` of `n`, with its 95 % interval; rough when that interval is wider than ±ROUGH_HALF_WIDTH."""

    hits: int
    n: int

    @property
    def value(self) -> float | None:
        return self.hits / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.hits, self.n, RATE_Z) if self.n else None

    @property
    def rough(self) -> bool:
        low, high = self.interval or (0.0, 1.0)
        return (high - low) / 2 > ROUGH_HALF_WIDTH

    def of(self, noun: str = "requests") -> str:
        """`2 of 31 requests`: what the rate is over."""
        return f"{self.hits:,} of {self.n:,} {noun}".rstrip()

    def rough_note(self) -> str:
        """`rough: few requests, could be 1.8–20.7 %`, or "" for a rate that is not rough."""
        if not self.rough or self.interval is None:
            return ""
        low, high = self.interval
        return f"rough: few requests, could be {low * 100:.1f}–{high * 100:.1f} %"


def flag_columns(requests: pl.LazyFrame) -> list[str]:
    """The request table's quality flags (`flag_refusal`, ...), added by aiobs.quality when present."""
    schema = requests.collect_schema()
    return sorted(n for n, t in schema.items() if n.startswith(FLAG_PREFIX) and t == pl.Boolean())


def flag_tables(requests: pl.LazyFrame, flags: list[str], group: pl.Expr) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each flag's count, rate and the cost of flagged requests; and each flag's rate per model group
    (`group`: an expression naming each request's `model_group`).

    As in summaries, a flag is null where it does not apply, so a rate is flagged / checked; flags that no
    request could be checked for are left out.
    """
    counts = requests.select(
        *(pl.col(f).count().alias(f"{f}.checked") for f in flags),
        *(pl.col(f).sum().alias(f"{f}.n") for f in flags),
        *(pl.col("cost_usd").filter(pl.col(f)).sum().alias(f"{f}.cost") for f in flags),
    ).collect()
    row = counts.row(0, named=True)
    checked = [f for f in flags if row[f"{f}.checked"]]
    overall = with_rates(
        pl.DataFrame(
            {
                "flag": [f.removeprefix(FLAG_PREFIX) for f in checked],
                "checked": [int(row[f"{f}.checked"]) for f in checked],
                "flagged": [int(row[f"{f}.n"] or 0) for f in checked],
                "cost_usd": [row[f"{f}.cost"] for f in checked],
            },
            schema={"flag": pl.String, "checked": pl.Int64, "flagged": pl.Int64, "cost_usd": pl.Float64},
        )
    )
    overall = overall.sort("rate", "flag", descending=[True, False])
    titles = {f: flag_title(f) for f in overall.get_column("flag").to_list()}
    overall = overall.with_columns(title=pl.col("flag").replace_strict(titles, return_dtype=pl.String)).select(
        "flag", "title", "checked", "flagged", "rate", "rate_low", "rate_high", "rough", "cost_usd"
    )
    by_model = (
        requests.with_columns(group)
        .group_by("model_group")
        .agg(
            pl.len().alias("requests"),
            *(pl.col(f).sum().alias(f) for f in checked),
        )
        .unpivot(index=["model_group", "requests"], on=checked, variable_name="flag", value_name="flagged")
        .collect()
    )
    checked_by_model = (
        requests.with_columns(group)
        .group_by("model_group")
        .agg(*(pl.col(f).count().alias(f) for f in checked))
        .unpivot(index="model_group", on=checked, variable_name="flag", value_name="checked")
        .collect()
    )
    by_model = with_rates(
        by_model.join(checked_by_model, on=["model_group", "flag"]).with_columns(
            pl.col("flag").str.strip_prefix(FLAG_PREFIX),
            pl.col("flagged").fill_null(0).cast(pl.Int64),
            pl.col("checked").cast(pl.Int64),
        )
    )
    by_model = by_model.select(
        "model_group", "requests", "flag", "flagged", "checked", "rate", "rate_low", "rate_high", "rough"
    ).sort("model_group", "flag")
    return overall, by_model


def ranked(flags: pl.DataFrame) -> pl.DataFrame:
    return flags.sort("rough", "rate", "flag", descending=[False, True, False])


def with_rates(frame: pl.DataFrame) -> pl.DataFrame:
    """`rate` = flagged / checked (null when nothing was checked), its 95 % interval, and whether it is rough.

    One Python call per row of a small aggregate (flags × model groups), never per request.
    """
    rates = [Rate(int(h or 0), int(n or 0)) for h, n in frame.select("flagged", "checked").iter_rows()]
    bounds = [r.interval for r in rates]
    return frame.with_columns(
        rate=pl.Series([r.value for r in rates], dtype=pl.Float64),
        rate_low=pl.Series([b[0] if b else None for b in bounds], dtype=pl.Float64),
        rate_high=pl.Series([b[1] if b else None for b in bounds], dtype=pl.Float64),
        rough=pl.Series([r.rough for r in rates], dtype=pl.Boolean),
    )
