"""Trino's rules for mathematical functions (functions/math): their result types (Trino's
MathFunctions, e.g. round(decimal(p,s)) is decimal(p-s+min(1,s), 0), sign(double) a double)
and their values where DuckDB computes otherwise (round(double, d) half up after scaling,
width_bucket, random(n), log2 as ln(x)/ln(2))."""
from __future__ import annotations

from glue_jobs.adapters.local.athena_sql.surface import APPROXIMATE, EXACT, declare

declare("functions/math", EXACT, "abs", "round", "floor", "ceil", "ceiling", "sqrt", "sign", "truncate",
        "width_bucket", "pi", "e", "is_nan", "is_finite", "is_infinite", "nan", "infinity", "random", "rand")
# Trino computes these with Java's Math, DuckDB with the C library: both IEEE doubles, but a
# transcendental result may differ in its last bit (DuckDB's cbrt(27) is 3.0000000000000004,
# Java's 3.0).
_ULP = "within 1 ulp of Trino's (Java Math vs the C library)"
declare("functions/math", APPROXIMATE, "cbrt", "power", "pow", "exp", "ln", "log2", "log10", "degrees",
        "radians", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", note=_ULP)
declare("functions/math", APPROXIMATE, "log",
        note=f"{_ULP}; log(10, x) is computed as log10(x) (Trino: ln(x)/ln(10))")
declare("functions/comparison", EXACT, "greatest", "least")

from sqlglot import exp  # noqa: E402

from glue_jobs.adapters.local.athena_sql import types  # noqa: E402
from glue_jobs.adapters.local.athena_sql.errors import AthenaRejects, NotEmulated  # noqa: E402
from glue_jobs.adapters.local.athena_sql.rules import duckdb_tree, fail, rule, typed  # noqa: E402
from glue_jobs.adapters.local.athena_sql.rules.arithmetic import (  # noqa: E402
    cast,
    floating_result,
    wider_integer,
)

T = exp.DataType.Type
DOUBLE_FUNCTIONS = (exp.Sqrt, exp.Cbrt, exp.Exp, exp.Ln, exp.Pow, exp.Degrees, exp.Radians, exp.Sin, exp.Cos,
                    exp.Tan, exp.Asin, exp.Acos, exp.Atan, exp.Atan2, exp.Sinh, exp.Cosh, exp.Tanh, exp.Pi)


def duck(sql: str, **values: exp.Expression) -> exp.Expression:
    """A DuckDB expression from a template with :placeholders."""
    return exp.replace_placeholders(duckdb_tree(sql),
                                    **{k: exp.Paren(this=v.copy()) for k, v in values.items()})



def _int_literal(node: exp.Expression | None) -> int | None:
    """The value of an integer literal argument (`2`, `-2`), else None."""
    if node is None:
        return None
    negative = isinstance(node, exp.Neg)
    inner = node.this if negative else node
    if isinstance(inner, exp.Paren):
        return _int_literal(inner.this)
    if isinstance(inner, exp.Literal) and not inner.is_string and str(inner.this).isdigit():
        return -int(inner.this) if negative else int(inner.this)
    return None


@rule(*DOUBLE_FUNCTIONS)
def double_function(node: exp.Func) -> exp.Expression:
    """Trino's sqrt, ln, exp, power ... take and return doubles (Java Math semantics: NaN for
    sqrt(-1), -Infinity for ln(0)); DuckDB's are IEEE too."""
    return typed(node, "double")


@rule(exp.Log)
def logarithm(node: exp.Log) -> exp.Expression:
    """log2(x) = Math.log(x) / Math.log(2) and log(b, x) = Math.log(x) / Math.log(b) in Trino
    (MathFunctions); log10(x) is Math.log10(x). sqlglot parses log2(x) and log10(x) as
    log(2, x) and log(10, x): log(10, x) spelled so is approximated by log10."""
    base, x = node.this, node.expression
    if x is None:
        return typed(duck("LN(:x)", x=base), "double")
    if _int_literal(base) == 10:
        return typed(exp.Anonymous(this="LOG10", expressions=[x.copy()]), "double")
    return typed(duck("LN(:x) / LN(:b)", x=x, b=base), "double")


@rule(exp.Abs)
def absolute(node: exp.Abs) -> exp.Expression | None:
    dt = types.of(node.this)
    return typed(node, dt) if types.is_numeric(dt) else None


@rule(exp.Floor, exp.Ceil)
def floor_ceil(node: exp.Func) -> exp.Expression | None:
    """floor/ceiling: an integer stays its type, a double a double, decimal(p,s) becomes
    decimal(p - s + min(s, 1), 0) (MathFunctions.Floor / Ceiling)."""
    dt = types.of(node.this)
    if node.args.get("decimals") is not None:
        raise AthenaRejects(f"Unexpected parameters for function {'floor' if isinstance(node, exp.Floor) else 'ceiling'}")
    if types.is_integer(dt) or types.is_floating(dt):
        return typed(node, dt)
    if types.is_decimal(dt):
        p, s = types.decimal_parts(dt)
        return cast(node, types.decimal(p - s + min(s, 1), 0))
    return None


@rule(exp.Round)
def round_(node: exp.Round) -> exp.Expression | None:
    x, d = node.this, node.args.get("decimals")
    dt = types.of(x)
    if types.is_floating(dt):
        # MathFunctions.round(double, d): Math.round(|x| * 10^d) / 10^d with x's sign, i.e.
        # half away from zero after scaling in double arithmetic (2.675 is stored as
        # 2.67499999..., 2.675 * 100 = 267.49999999999997, so round(2.675, 2) = 2.67). DuckDB's
        # ROUND(double) without digits is C round(): half away from zero, no scaling error.
        if d is None:
            return typed(duck("ROUND(:x)", x=x), dt)
        # (NaN and the infinities come through unchanged, as in Trino)
        return typed(duck("ROUND(:x * POWER(10e0, :d)) / POWER(10e0, :d)", x=x, d=d), dt)
    if types.is_integer(dt):
        if d is None:
            return typed(node, dt)
        digits = _int_literal(d)
        if digits is None:
            raise NotEmulated("round", "round(integer, d) with a d that is not a literal")
        if digits >= 0:
            return cast(x, dt)
        factor = 10 ** -digits  # LongMath.divide(num, factor, HALF_UP) * factor
        return cast(duck(f"SIGN(:x) * ((ABS(:x) + {factor // 2}) // {factor}) * {factor}", x=x), dt)
    if types.is_decimal(dt):
        p, s = types.decimal_parts(dt)
        if d is None:  # decimal(min(38, p - s + min(1, s)), 0), half up (DuckDB: away from zero too)
            return cast(duck("ROUND(:x)", x=x), types.decimal(min(38, p - s + min(1, s)), 0))
        digits = _int_literal(d)
        if digits is None:
            raise NotEmulated("round", "round(decimal, d) with a d that is not a literal")
        result = types.decimal(min(38, p + 1), s)  # MathFunctions.RoundN: decimal(p + 1, s)
        if digits >= s:
            return cast(x, result)
        if p - s + digits <= 0:
            return cast(exp.Literal.number(0), result)
        return cast(duck(f"ROUND(:x, {digits})", x=x), result)
    return None


@rule(exp.Trunc)
def truncate(node: exp.Trunc) -> exp.Expression | None:
    x, d = node.this, node.args.get("decimals")
    dt = types.of(x)
    if types.is_floating(dt) and d is None:
        return typed(node, dt)
    if types.is_decimal(dt):
        p, s = types.decimal_parts(dt)
        if d is None:  # decimal(max(1, p - s), 0)
            return cast(duck("TRUNC(:x)", x=x), types.decimal(max(1, p - s), 0))
        digits = _int_literal(d)
        if digits is None:
            raise NotEmulated("truncate", "truncate(decimal, d) with a d that is not a literal")
        if digits >= s:
            return cast(x, dt)
        if p - s + digits <= 0:
            return cast(exp.Literal.number(0), dt)
        return cast(duck(f"TRUNC(:x, {digits})", x=x), dt)  # num - num % 10^(s - d), unscaled
    if types.is_known(dt) and types.is_numeric(dt):
        raise NotEmulated("truncate", f"truncate of {types.athena_name(dt)}")
    return None


@rule(exp.Sign)
def sign(node: exp.Sign) -> exp.Expression | None:
    """sign(double) is a double (NaN stays NaN: Math.signum), sign(integer) its type, sign of
    a decimal decimal(1,0). DuckDB's sign() is always a TINYINT."""
    dt = types.of(node.this)
    if types.is_floating(dt):
        return cast(duck("CASE WHEN ISNAN(:x) THEN :x ELSE SIGN(:x) END", x=node.this), dt)
    if types.is_integer(dt):
        return cast(node, dt)
    if types.is_decimal(dt):
        return cast(node, "decimal(1,0)")
    return None


@rule(exp.IsNan)
def is_nan(node: exp.IsNan) -> exp.Expression:
    return typed(node, "boolean")


@rule("is_finite", "is_infinite", "nan", "infinity", "e")
def named_double(node: exp.Anonymous) -> exp.Expression:
    name = node.name.lower()
    args = node.expressions
    if name in ("is_finite", "is_infinite"):
        return typed(duck("ISFINITE(:x)" if name == "is_finite" else "ISINF(:x)", x=args[0]), "boolean")
    text = {"nan": "CAST('NaN' AS DOUBLE)", "infinity": "CAST('Infinity' AS DOUBLE)",
            "e": "2.718281828459045e0"}[name]  # Math.E
    return typed(duckdb_tree(text), "double")


@rule(exp.Rand)
def random(node: exp.Rand) -> exp.Expression:
    """random() is a double in [0, 1); random(n) an integer of n's type in [0, n) (sqlglot
    reads the argument as a seed: it is a bound in Trino)."""
    bound = node.this
    if bound is None:
        return typed(exp.Rand(), "double")
    dt = types.of(bound)
    if not types.is_integer(dt):
        raise NotEmulated("random", f"random({types.athena_name(dt)})")
    return cast(duck(f"CASE WHEN :n > 0 THEN FLOOR(RANDOM() * :n) ELSE {fail('bound must be positive')} END",
                     n=bound), dt)


@rule(exp.WidthBucket)
def width_bucket(node: exp.WidthBucket) -> exp.Expression | None:
    """MathFunctions.widthBucket(operand, bound1, bound2, bucketCount), bigint."""
    x, b1, b2, n = (node.args.get(k) for k in ("this", "min_value", "max_value", "num_buckets"))
    if None in (x, b1, b2, n):
        raise NotEmulated("width_bucket", "width_bucket(x, bins)")
    lower, upper = "LEAST(CAST(:b1 AS DOUBLE), :b2)", "GREATEST(CAST(:b1 AS DOUBLE), :b2)"
    bucket = (f"CASE WHEN :x < {lower} THEN 0 WHEN :x >= {upper} THEN :n + 1 "
              f"ELSE CAST(TRUNC(CAST(:n AS DOUBLE) * (:x - {lower}) / ({upper} - {lower}) + 1) AS BIGINT) END")
    template = (
        "CASE WHEN :n IS NULL OR :x IS NULL OR :b1 IS NULL OR :b2 IS NULL THEN NULL "
        f"WHEN :n <= 0 THEN {fail('bucketCount must be greater than 0')} "
        f"WHEN ISNAN(:x) THEN {fail('operand must not be NaN')} "
        f"WHEN NOT ISFINITE(:b1) THEN {fail('first bound must be finite')} "
        f"WHEN NOT ISFINITE(:b2) THEN {fail('second bound must be finite')} "
        f"WHEN :b1 = :b2 THEN {fail('bounds cannot equal each other')} "
        f"WHEN :b1 > :b2 THEN :n - ({bucket}) + 1 ELSE {bucket} END")
    return typed(duck(template, x=exp.Cast(this=x, to=exp.DataType.build("DOUBLE")),
                      b1=exp.Cast(this=b1, to=exp.DataType.build("DOUBLE")),
                      b2=exp.Cast(this=b2, to=exp.DataType.build("DOUBLE")),
                      n=exp.Cast(this=n, to=exp.DataType.build("BIGINT"))), "bigint")


def common_supertype(dts: list[exp.DataType]) -> exp.DataType | None:
    """Trino's common super type of numeric types (an integer widens to a decimal or a double),
    or the one type all arguments share; None when not known."""
    if not all(types.is_known(d) for d in dts):
        return None
    if all(types.is_numeric(d) for d in dts):
        if any(types.is_floating(d) for d in dts):
            result = dts[0]
            for d in dts[1:]:
                result = types.build(floating_result(result, d))
            return result if types.is_floating(result) else types.build("double")
        if all(types.is_integer(d) for d in dts):
            result = dts[0]
            for d in dts[1:]:
                result = wider_integer(result, d)
            return result
        parts = [types.decimal_parts(d) for d in dts]
        scale = max(s for _, s in parts)
        return types.decimal(max(p - s for p, s in parts) + scale, scale)
    names = {types.athena_name(d) for d in dts}
    return dts[0] if len(names) == 1 else None


@rule(exp.Greatest, exp.Least)
def greatest_least(node: exp.Func) -> exp.Expression | None:
    """greatest/least: NULL when any argument is NULL (sqlglot's DuckDB output checks that),
    of the arguments' common super type (greatest(1, 2.5) is decimal(11,1))."""
    args = [node.this, *node.expressions]
    dt = common_supertype([types.of(a) for a in args])
    if dt is None:
        return None
    if types.is_numeric(dt):
        for a in args:
            if types.athena_name(types.of(a)) != types.athena_name(dt):
                a.replace(exp.Cast(this=a.copy(), to=exp.DataType.build(types.duck_cast_type(dt), dialect="duckdb")))
    return typed(node, dt)
