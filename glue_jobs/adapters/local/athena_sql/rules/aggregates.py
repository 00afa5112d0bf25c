"""Trino's rules for aggregates and window functions (functions/aggregate, functions/window):
Trino's result types (sum of integers is bigint, avg of a decimal a decimal of the same
scale), and the functions DuckDB answers otherwise (min_by/max_by keep a NULL value, corr is
NULL where it is not finite, every and map_agg under DuckDB's names)."""
from __future__ import annotations

from sqlglot import exp

from glue_jobs.adapters.local.athena_sql import types
from glue_jobs.adapters.local.athena_sql.errors import NotEmulated
from glue_jobs.adapters.local.athena_sql.rules import is_trusted, rule, typed
from glue_jobs.adapters.local.athena_sql.rules.strings import duck
from glue_jobs.adapters.local.athena_sql.surface import APPROXIMATE, EXACT, declare

declare("functions/aggregate", EXACT, "count", "sum", "avg", "min", "max", "count_if", "min_by", "max_by",
        "arbitrary", "any_value", "array_agg", "bool_and", "bool_or", "every", "stddev", "stddev_samp",
        "stddev_pop", "variance", "var_samp", "var_pop", "corr", "covar_samp", "covar_pop", "map_agg",
        "geometric_mean")
declare("functions/aggregate", APPROXIMATE, "approx_distinct",
        note="Athena estimates (HyperLogLog, standard error 2.3%); the local engine returns the exact "
             "distinct count, which is within that bound")
declare("functions/aggregate", APPROXIMATE, "approx_percentile",
        note="Athena estimates (t-digest, rank error about 1%); the local engine returns the exact "
             "nearest-rank value (quantile_disc), which is within that bound")
declare("functions/window", EXACT, "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile",
        "lag", "lead", "first_value", "last_value", "nth_value")


def _argument(node: exp.Expression) -> exp.Expression:
    arg = node.this
    if isinstance(arg, exp.Distinct):
        return arg.expressions[0]
    return arg


def _same(node: exp.Expression, dt: exp.DataType | str) -> exp.Expression:
    """The node itself, typed (its children are already rewritten)."""
    return typed(node, dt)


def _carried(node: exp.Expression, dt: exp.DataType | str) -> exp.Expression:
    """The node cast to the DuckDB type that carries Trino's `dt`, so that an expression around
    it (coalesce(sum(x), 0)) sees a bigint, not DuckDB's 128-bit sum. A window function is
    cast around its window (see `window`)."""
    dt = dt if isinstance(dt, exp.DataType) else types.build(dt)
    if isinstance(node.parent, exp.Window):
        return typed(node, dt)
    duck_type = types.duck_cast_type(dt)
    if duck_type is None:
        return typed(node, dt)
    return typed(exp.Cast(this=node.copy(), to=exp.DataType.build(duck_type, dialect="duckdb")), dt)


@rule(exp.Count, exp.CountIf)
def count(node: exp.Expression) -> exp.Expression:
    return _same(node, "bigint") if isinstance(node, exp.Count) else _carried(node, "bigint")


@rule(exp.Sum)
def sum_(node: exp.Sum) -> exp.Expression | None:
    """Trino: sum of any integer type is bigint, of decimal(p,s) decimal(38,s)."""
    dt = types.of(_argument(node))
    if types.is_integer(dt):
        return _carried(node, "bigint")
    if types.is_decimal(dt):
        return _same(node, types.decimal(38, types.decimal_parts(dt)[1]))
    if types.is_floating(dt):
        return _same(node, dt)
    return None


@rule(exp.Avg)
def avg(node: exp.Avg) -> exp.Expression | None:
    """Trino: avg of an integer is double; of decimal(p,s) it is decimal(p,s), the exact mean
    rounded half up to the scale (DecimalAverageAggregation); DuckDB's is a double."""
    arg = _argument(node)
    dt = types.of(arg)
    if types.is_integer(dt) or dt.this == types.T.DOUBLE:
        return _same(node, "double")
    if dt.this == types.T.FLOAT:
        return _same(node, "real")
    if not types.is_decimal(dt):
        return None
    if isinstance(node.parent, exp.Window):
        raise NotEmulated("avg of a decimal as a window function")
    precision, scale = types.decimal_parts(dt)
    distinct = isinstance(node.this, exp.Distinct)
    value = node.this.copy()
    counted = f"count({'DISTINCT ' if distinct else ''}_x)"
    summed = f"sum({'DISTINCT ' if distinct else ''}_x)"
    unscaled = f"CAST({summed} * {10 ** scale} AS HUGEINT)"
    # round half up (away from zero) of unscaled / n, in integers
    rounded = f"((2 * abs({unscaled}) + {counted}) // (2 * {counted}))"
    text = (f"CASE WHEN {counted} = 0 THEN NULL ELSE CAST((CASE WHEN {unscaled} < 0 THEN '-' ELSE '' END) || "
            f"CAST({rounded} AS VARCHAR) || 'e-{scale}' AS DECIMAL({precision},{scale})) END")
    new = duck(text, _x=_argument(node) if not distinct else value.expressions[0])
    return typed(new, types.decimal(precision, scale))


@rule(exp.Min, exp.Max, exp.AnyValue)
def same_type(node: exp.Expression) -> exp.Expression | None:
    arg = node.this
    if node.expressions:
        raise NotEmulated(f"{type(node).__name__.lower()} with a count argument")
    if not types.is_known(types.of(arg)):
        return None
    return _same(node, types.of(arg))


@rule(exp.ArgMin, exp.ArgMax)
def min_by(node: exp.Expression) -> exp.Expression:
    """Trino's min_by(x, y) / max_by(x, y) is x of the row with the least / greatest non-NULL
    y, NULL or not (DuckDB's arg_min skips rows whose x is NULL; arg_min_null does not)."""
    count = node.args.get("count")
    if count is not None:
        return _by_with_count(node, count)
    function = "arg_min_null" if isinstance(node, exp.ArgMin) else "arg_max_null"
    new = exp.Anonymous(this=function, expressions=[node.this, node.expression])
    if types.is_known(types.of(node.this)):
        return typed(new, types.of(node.this))
    new.type = types.of(node.this)
    return new


def _by_with_count(node: exp.Expression, count: exp.Expression) -> exp.Expression:
    """min_by(x, y, n) / max_by(x, y, n): an array of the x of the n rows with the least /
    greatest non-NULL y, in that order of y, NULL x kept (Trino's TypedKeyValueHeap skips a
    NULL key, not a NULL value). DuckDB's arg_max(x, y, n) skips NULL x, so x travels in a
    one-field struct (cheaper than a list) and is taken out again."""
    if not (isinstance(count, exp.Literal) and count.is_int and int(count.this) > 0):
        raise NotEmulated(f"{'min_by' if isinstance(node, exp.ArgMin) else 'max_by'} with a count that is "
                          "not a positive integer literal")
    function = "arg_min" if isinstance(node, exp.ArgMin) else "arg_max"
    if node.this == node.expression:  # max_by(d, d, n): a NULL value is a NULL key, skipped by both
        new = duck(f"{function}(_x, _y, {int(count.this)})", _x=node.this, _y=node.expression)
    else:
        new = duck(f"list_transform({function}({{'v': _x}}, _y, {int(count.this)}), lambda e: e.v)",
                   _x=node.this, _y=node.expression)
    element = types.of(node.this)
    if types.is_known(element):
        return typed(new, exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[element], nested=True))
    return new


@rule(exp.LogicalAnd, exp.LogicalOr)
def bool_agg(node: exp.Expression) -> exp.Expression:
    return _same(node, "boolean")


@rule("every")
def every(node: exp.Anonymous) -> exp.Expression:
    return typed(exp.LogicalAnd(this=node.expressions[0]), "boolean")


@rule(exp.ArrayAgg)
def array_agg(node: exp.ArrayAgg) -> exp.Expression | None:
    arg = node.this.this if isinstance(node.this, exp.Order) else node.this
    dt = types.of(_argument(node) if not isinstance(node.this, exp.Order) else arg)
    if not types.is_known(dt):
        return None
    return _same(node, exp.DataType(this=types.T.ARRAY, expressions=[dt], nested=True))


@rule("map_agg")
def map_agg(node: exp.Anonymous) -> exp.Expression:
    """Trino: a map of the key/value pairs; a key seen twice keeps one of its values (DuckDB's
    map_from_entries fails on a repeated key: the first entry of each key is kept)."""
    key, value = node.expressions
    entries = "list({'k': _k, 'v': _v})"
    new = duck(f"map_from_entries(list_filter({entries}, lambda e, i: "
               f"list_position(list_transform({entries}, lambda x: x.k), e.k) = i))", _k=key, _v=value)
    kt, vt = types.of(key), types.of(value)
    if types.is_known(kt) and types.is_known(vt):
        return typed(new, exp.DataType(this=types.T.MAP, expressions=[kt, vt], nested=True))
    return new


@rule(exp.Stddev, exp.StddevSamp, exp.StddevPop, exp.Variance, exp.VariancePop, exp.CovarSamp, exp.CovarPop)
def statistics(node: exp.Expression) -> exp.Expression | None:
    if types.of(node.this).this == types.T.FLOAT:
        return None
    return _same(node, "double")


@rule(exp.Corr)
def corr(node: exp.Corr) -> exp.Expression:
    """Trino's corr is NULL where the coefficient is not finite (fewer than two rows, a
    constant column); DuckDB's is NaN (DoubleCorrelationAggregation.corr)."""
    new = duck("CASE WHEN isfinite(corr(_y, _x)) THEN corr(_y, _x) END", _y=node.this, _x=node.expression)
    return typed(new, "double")


@rule("geometric_mean")
def geometric_mean(node: exp.Anonymous) -> exp.Expression:
    return typed(exp.Anonymous(this="geometric_mean", expressions=list(node.expressions)), "double")


@rule(exp.ApproxDistinct)
def approx_distinct(node: exp.ApproxDistinct) -> exp.Expression:
    if node.args.get("accuracy") is not None:
        raise NotEmulated("approx_distinct with a maximum standard error")
    return typed(exp.Count(this=exp.Distinct(expressions=[node.this])), "bigint")


@rule(exp.ApproxQuantile)
def approx_percentile(node: exp.ApproxQuantile) -> exp.Expression:
    if node.args.get("weight") is not None or node.args.get("accuracy") is not None:
        raise NotEmulated("approx_percentile with a weight or an accuracy")
    quantile = node.args["quantile"]
    new = exp.Anonymous(this="quantile_disc", expressions=[node.this, quantile])
    dt = types.of(node.this)
    if not types.is_known(dt):
        return new
    if isinstance(quantile, exp.Array) or types.of(quantile).this == types.T.ARRAY:
        return typed(new, exp.DataType(this=types.T.ARRAY, expressions=[dt], nested=True))
    return typed(new, dt)


# --- functions/window -----------------------------------------------------------------------


@rule(exp.RowNumber, exp.Rank, exp.DenseRank, exp.Ntile)
def ranking(node: exp.Expression) -> exp.Expression:
    return _same(node, "bigint")


@rule(exp.PercentRank, exp.CumeDist)
def distribution(node: exp.Expression) -> exp.Expression:
    return _same(node, "double")


@rule(exp.Lag, exp.Lead, exp.FirstValue, exp.LastValue, exp.NthValue)
def value_function(node: exp.Expression) -> exp.Expression | None:
    dt = types.of(node.this)
    default = node.args.get("default")
    if default is not None and types.of(default) != dt and not isinstance(default, exp.Null):
        return None  # the result is of the common type: left to DuckDB's (the same) coercion
    if not types.is_known(dt):
        return None
    return _same(node, dt)


@rule(exp.Window)
def window(node: exp.Window) -> exp.Expression | None:
    """A window's type is its function's (set by the rules above)."""
    if not is_trusted(node.this):
        return None
    dt = types.of(node.this)
    duck_type = types.duck_cast_type(dt)
    if duck_type is None:
        return _same(node, dt)
    return typed(exp.Cast(this=node.copy(), to=exp.DataType.build(duck_type, dialect="duckdb")), dt)
