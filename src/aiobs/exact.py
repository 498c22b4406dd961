"""Float sums that come out the same on every run, and on every engine.

A float sum depends, in its last bits, on the order its values are added in, and Polars adds a column's
values in an order that depends on how its threads split the work and in which order spilled files are
read: the same input gave costs of 74.95979000000003 and 74.95979 on two runs. So sums (and the means
made from them) are taken over decimals: each value is written as its shortest decimal text and read
back rounded to `scale` places (not converted from binary, where 4e8 is 399999999.99999996...), the sum
is exact integer arithmetic, which does not depend on order, and the total is turned back into a float.

A decimal holds 38 digits. A value too large to be summed that way (more than 10 digits above the
scale's room, so that a billion of them still fit), or one that is not a number (NaN, infinity: an input
problem already reported where it was read), is added as a plain float instead, so a sum never fails.
"""

from __future__ import annotations

import polars as pl

#: Decimal places kept of each value before it is summed.
LATENCY_SCALE = 6
COST_SCALE = 15
COST_SQUARED_SCALE = 21
SCORE_SCALE = 12


#: Digits a decimal of this precision holds, and digits kept free so that a billion values sum in it.
_DIGITS = 38
_HEADROOM = 10


def exact_sum(expr: pl.Expr, scale: int) -> pl.Expr:
    """The sum of a float column, the same whatever order its values come in (0.0 when all are null)."""
    fits = expr.is_finite() & (expr.abs() < 10.0 ** (_DIGITS - scale - _HEADROOM))
    exact = expr.filter(fits).cast(pl.String).cast(pl.Decimal(_DIGITS, scale)).sum().cast(pl.Float64)
    return exact + expr.filter(fits.not_()).sum()


def exact_sum_or_null(expr: pl.Expr, scale: int) -> pl.Expr:
    """`exact_sum`, null when no value is there to sum."""
    return pl.when(expr.count() > 0).then(exact_sum(expr, scale))


def exact_mean(expr: pl.Expr, scale: int) -> pl.Expr:
    """The mean of the non-null values (null when there are none), from `exact_sum`."""
    return pl.when(expr.count() > 0).then(exact_sum(expr, scale) / expr.count())
