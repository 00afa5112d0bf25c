"""Trino's rules for CAST and TRY_CAST (functions/conversion) where DuckDB casts otherwise:

- double -> bigint rounds half up (DoubleOperators.castToLong: DoubleMath.roundToLong(HALF_UP);
  DuckDB rounds half to even), integer/smallint/tinyint likewise (MathFunctions.round), with
  Trino's failures for NaN and out-of-range values;
- double -> decimal(p,s) rounds the double's shortest decimal form half up
  (DecimalConversions: BigDecimal.valueOf(value).setScale(s, HALF_UP)), so 1.005 gives 1.01;
- varchar -> bigint/integer/smallint/tinyint is Long.parseLong & co.: '1.5' and ' 1' fail with
  "Cannot cast '1.5' to BIGINT" (DuckDB rounds '1.5' to 2); varchar -> double fails with
  "Cannot cast 'x' to DOUBLE";
- double -> varchar is DecimalFormat("0.0###################E0") since Trino 369 (PR 10657,
  "Follow the SQL standard in cast from double or real to varchar"): 1.5 -> '1.5E0',
  1e10 -> '1.0E10', 0.001 -> '1.0E-3', 0 -> '0E0';
- varchar -> varchar(n) truncates to n characters; a number -> varchar(n) that does not fit
  fails with "Value 12345 cannot be represented as varchar(3)".
TRY_CAST gives NULL where CAST fails.
"""
from __future__ import annotations

from sqlglot import exp

from glue_jobs.adapters.local.athena_sql import types
from glue_jobs.adapters.local.athena_sql.errors import NotEmulated
from glue_jobs.adapters.local.athena_sql.rules import duckdb_tree, rule, typed

T = exp.DataType.Type

_RANGE = {  # Trino type: (name in "Cannot cast 'x' to NAME", min, max)
    T.BIGINT: ("BIGINT", -(2**63), 2**63 - 1),
    T.INT: ("INT", -(2**31), 2**31 - 1),
    T.SMALLINT: ("SMALLINT", -(2**15), 2**15 - 1),
    T.TINYINT: ("TINYINT", -(2**7), 2**7 - 1),
}


def _duck(sql: str, **values: exp.Expression) -> exp.Expression:
    return exp.replace_placeholders(duckdb_tree(sql),
                                    **{k: exp.Paren(this=v.copy()) for k, v in values.items()})


def _fail(message_sql: str, safe: bool) -> str:
    """A DuckDB expression failing with Athena's message (a SQL string expression), or NULL
    for TRY_CAST."""
    return "NULL" if safe else f"error('athena-twin: ' || {message_sql})"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# The shortest decimal digits and the decimal exponent of |x| (x finite, not 0), read from
# DuckDB's shortest round-trip text of the double ('10000000000.0', '1e+20', '1.5e-05').
_SIG = "RTRIM(LTRIM(SPLIT_PART(SPLIT_PART(s, 'e', 1), '.', 1) || SPLIT_PART(SPLIT_PART(s, 'e', 1), '.', 2), '0'), '0')"
_EXP = ("(CASE WHEN CONTAINS(s, 'e') THEN CAST(SPLIT_PART(s, 'e', 2) AS INTEGER) ELSE 0 END"
        " + LENGTH(SPLIT_PART(SPLIT_PART(s, 'e', 1), '.', 1)) - 1"
        " - (LENGTH(SPLIT_PART(SPLIT_PART(s, 'e', 1), '.', 1) || SPLIT_PART(SPLIT_PART(s, 'e', 1), '.', 2))"
        " - LENGTH(LTRIM(SPLIT_PART(SPLIT_PART(s, 'e', 1), '.', 1) || SPLIT_PART(SPLIT_PART(s, 'e', 1), '.', 2), '0'))))")


def trino_double_text(x: exp.Expression) -> exp.Expression:
    """CAST(x AS varchar) for a double x as Trino writes it (DecimalFormat "0.0####...E0")."""
    scientific = (f"LIST_TRANSFORM([CAST(ABS(:x) AS VARCHAR)], lambda s: LEFT({_SIG}, 1) || '.' || "
                  f"COALESCE(NULLIF(SUBSTR({_SIG}, 2), ''), '0') || 'E' || CAST({_EXP} AS VARCHAR))[1]")
    return _duck("CASE WHEN :x IS NULL THEN NULL WHEN ISNAN(:x) THEN 'NaN' "
                 "WHEN :x = CAST('Infinity' AS DOUBLE) THEN 'Infinity' "
                 "WHEN :x = CAST('-Infinity' AS DOUBLE) THEN '-Infinity' "
                 "WHEN :x = 0 THEN CASE WHEN 1 / :x < 0 THEN '-0E0' ELSE '0E0' END "
                 f"ELSE CASE WHEN :x < 0 THEN '-' ELSE '' END || {scientific} END", x=x)


def java_double_text(x: exp.Expression) -> exp.Expression:
    """String.valueOf(x) for a double x (Java's Double.toString: '1.0E10', '1.5', '1.0E-4'), as
    Trino's messages print a double."""
    body = (f"LIST_TRANSFORM([CAST(ABS(:x) AS VARCHAR)], lambda s: CASE "
            f"WHEN {_EXP} >= 7 OR {_EXP} < -3 THEN LEFT({_SIG}, 1) || '.' || "
            f"COALESCE(NULLIF(SUBSTR({_SIG}, 2), ''), '0') || 'E' || CAST({_EXP} AS VARCHAR) "
            f"WHEN {_EXP} < 0 THEN '0.' || REPEAT('0', -{_EXP} - 1) || {_SIG} "
            f"ELSE RPAD({_SIG}, CAST({_EXP} + 1 AS INTEGER), '0') || '.' || COALESCE(NULLIF(SUBSTR({_SIG}, {_EXP} + 2), ''), '0') END)[1]")
    return _duck("CASE WHEN :x IS NULL THEN NULL WHEN ISNAN(:x) THEN 'NaN' "
                 "WHEN :x = CAST('Infinity' AS DOUBLE) THEN 'Infinity' "
                 "WHEN :x = CAST('-Infinity' AS DOUBLE) THEN '-Infinity' WHEN :x = 0 THEN '0.0' "
                 f"ELSE CASE WHEN :x < 0 THEN '-' ELSE '' END || {body} END", x=x)


def _to_duck(dt: exp.DataType) -> str:
    return types.duck_cast_type(dt)


@rule(exp.Cast)
def cast(node: exp.Cast) -> exp.Expression | None:
    """CAST and TRY_CAST (exp.TryCast is a Cast) by Trino's rules; see the module's doc."""
    to = node.to
    source = types.of(node.this)
    safe = isinstance(node, exp.TryCast)
    x = node.this
    if not isinstance(to, exp.DataType) or not types.is_known(source):
        return None
    if source.this == T.DOUBLE and to.this in _RANGE:
        return typed(_double_to_integer(x, to, safe), to)
    if source.this == T.DOUBLE and types.is_decimal(to):
        p, s = types.decimal_parts(to)
        message = f"'Cannot cast DOUBLE ''' || :j || ''' to DECIMAL({p}, {s})'"
        template = (f"CASE WHEN :x IS NULL THEN NULL WHEN ISNAN(:x) OR ISINF(:x) "
                    f"OR TRY_CAST(CAST(:x AS VARCHAR) AS DECIMAL({p},{s})) IS NULL THEN {_fail(message, safe)} "
                    f"ELSE CAST(CAST(:x AS VARCHAR) AS DECIMAL({p},{s})) END")
        return typed(_duck(template, x=x, j=java_double_text(x)), to)
    if types.is_string(source) and to.this in _RANGE and safe:
        # the same answers as the CAST below with NULL for its failures, parsing each value once
        # (write_temp parses millions of volumes this way)
        return typed(_duck(f"CASE WHEN REGEXP_FULL_MATCH(:x, '[+-]?[0-9]+') THEN TRY_CAST(:x AS {_to_duck(to)}) END",
                           x=x), to)
    if types.is_string(source) and to.this == T.DOUBLE and safe:
        return typed(_duck("TRY_CAST(:x AS DOUBLE)", x=x), to)
    if types.is_string(source) and to.this in _RANGE:
        name, low, high = _RANGE[to.this]
        message = f"'Cannot cast ''' || :x || ''' to {name}'"
        template = (f"CASE WHEN :x IS NULL THEN NULL WHEN NOT REGEXP_FULL_MATCH(:x, '[+-]?[0-9]+') "
                    f"OR TRY_CAST(:x AS HUGEINT) NOT BETWEEN {low} AND {high} THEN {_fail(message, safe)} "
                    f"ELSE CAST(:x AS {_to_duck(to)}) END")
        return typed(_duck(template, x=x), to)
    if types.is_string(source) and to.this == T.DOUBLE:
        message = "'Cannot cast ''' || :x || ''' to DOUBLE'"
        template = f"COALESCE(TRY_CAST(:x AS DOUBLE), CASE WHEN :x IS NULL THEN NULL ELSE {_fail(message, safe)} END)"
        return typed(_duck(template, x=x), to)
    if types.is_string(to):
        return _to_varchar(x, source, to, safe)
    return None


def _double_to_integer(x: exp.Expression, to: exp.DataType, safe: bool) -> exp.Expression:
    """ROUND(double) in DuckDB is C's round(): half away from zero, as Guava's HALF_UP and
    Trino's Math.round of the magnitude."""
    name = types.athena_name(to)
    _, low, high = _RANGE[to.this]
    if to.this == T.BIGINT:
        nan = _fail("'Unable to cast NaN to bigint'", safe)
        out = _fail("'Unable to cast ' || :j || ' to bigint'", safe)
        in_range = "ROUND(:x) >= -9.223372036854775808e18 AND ROUND(:x) < 9.223372036854775808e18"
    else:
        nan = _fail(f"'Cannot cast double NaN to {name}'", safe)
        out = _fail(f"'Out of range for {name}: ' || :j", safe)
        in_range = f"ROUND(:x) BETWEEN {low} AND {high}"
    template = (f"CASE WHEN :x IS NULL THEN NULL WHEN ISNAN(:x) THEN {nan} WHEN NOT ({in_range}) THEN {out} "
                f"ELSE CAST(ROUND(:x) AS {_to_duck(to)}) END")
    return _duck(template, x=x, j=java_double_text(x))


def _to_varchar(x: exp.Expression, source: exp.DataType, to: exp.DataType, safe: bool) -> exp.Expression | None:
    length = int(to.expressions[0].name) if to.expressions else None
    if source.this == T.DOUBLE:
        if length is not None:
            raise NotEmulated("cast", "CAST(double AS varchar(n))")
        return typed(trino_double_text(x), to)
    if types.is_string(source):
        if length is None:
            return None
        return typed(_duck(f"SUBSTR(CAST(:x AS VARCHAR), 1, {length})", x=x), to)
    if types.is_exact(source) or source.this in (T.BOOLEAN, T.DATE):
        # same text as DuckDB's ('1.50', 'true', '2024-01-02'); varchar(n) fails when longer
        if length is None:
            return typed(_duck("CAST(:x AS VARCHAR)", x=x), to)
        message = f"'Value ' || CAST(:x AS VARCHAR) || ' cannot be represented as varchar({length})'"
        template = (f"CASE WHEN LENGTH(CAST(:x AS VARCHAR)) <= {length} THEN CAST(:x AS VARCHAR) "
                    f"ELSE {_fail(message, safe)} END")
        return typed(_duck(template, x=x), to)
    return None
