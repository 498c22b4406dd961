"""Float sums that come out the same on every run, and on every engine.

A float sum depends, in its last bits, on the order its values are added in, and Polars adds a column's
values in an order that depends on how its threads split the work and in which order spilled files are
read: the same input gave costs of 74.95979000000003 and 74.95979 on two runs. So sums (and the means
made from them) are taken over decimals: each value is rounded to `scale` decimal places, the sum is
exact integer arithmetic, which does not depend on order, and the total is turned back into a float.

The scales leave room for any real log (a decimal holds 38 digits): latency in ms to the nanosecond
(sums up to 1e32 ms), cost in USD to 1e-15 (sums up to 1e23), squared cost to 1e-21.
"""

from __future__ import annotations

import polars as pl

#: Decimal places kept of each value before it is summed.
LATENCY_SCALE = 6
COST_SCALE = 15
COST_SQUARED_SCALE = 21
SCORE_SCALE = 12


def exact_sum(expr: pl.Expr, scale: int) -> pl.Expr:
    """The sum of a float column, the same whatever order its values come in (0.0 when all are null)."""
    return expr.cast(pl.Decimal(38, scale)).sum().cast(pl.Float64)


def exact_sum_or_null(expr: pl.Expr, scale: int) -> pl.Expr:
    """`exact_sum`, null when no value is there to sum."""
    return pl.when(expr.count() > 0).then(exact_sum(expr, scale))


def exact_mean(expr: pl.Expr, scale: int) -> pl.Expr:
    """The mean of the non-null values (null when there are none), from `exact_sum`."""
    return pl.when(expr.count() > 0).then(exact_sum(expr, scale) / expr.count())
