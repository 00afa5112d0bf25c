"""Trino's rules for arithmetic: numeric literals, + - * / % (and mod()) with Trino's result
types (functions/math "Mathematical operators", language/types "Decimal").

- a literal `100.0` is DECIMAL(4,1) (Athena v3 parses decimal literals as decimals), `1e2` is
  DOUBLE, `7` INTEGER and `3000000000` BIGINT;
- integer op integer is the wider integer type (DuckDB would keep a SMALLINT side's width or
  widen a sum to 128 bits), computed in that type so an overflow fails where Trino's does;
- decimal op decimal (an integer side widened to DECIMAL(10,0) / DECIMAL(19,0)) has the
  precision and scale of Trino's DecimalOperators; DuckDB turns decimal / decimal into a double,
  so the division is done on unscaled 128-bit integers, rounded half up (away from zero);
- anything with a double is a double (IEEE: 1e0/0 is Infinity, 0e0/0 NaN, x % 0e0 NaN);
- integer and decimal division or modulus by zero fail with "Division by zero".
"""
from __future__ import annotations

from glue_jobs.adapters.local.athena_sql.surface import EXACT, declare

declare("functions/math", EXACT, "mod")


from sqlglot import exp  # noqa: E402

from glue_jobs.adapters.local.athena_sql import types  # noqa: E402
from glue_jobs.adapters.local.athena_sql.rules import duckdb_tree, rule, typed  # noqa: E402

T = exp.DataType.Type
_INT32 = 2**31


def duck(dt: exp.DataType) -> exp.DataType:
    """The DuckDB type that carries Trino type `dt`."""
    return exp.DataType.build(types.duck_cast_type(dt), dialect="duckdb")


def cast(node: exp.Expression, dt: exp.DataType | str) -> exp.Expression:
    """`node` (a copy: the rewrite replaces the original in its tree) cast in DuckDB to the
    type carrying Trino type `dt`, typed as `dt`."""
    dt = types.build(dt) if isinstance(dt, str) else dt
    return typed(exp.Cast(this=node.copy(), to=duck(dt)), dt)


@rule(exp.Literal)
def numeric_literal(node: exp.Literal) -> exp.Expression | None:
    """Trino's types of numeric literals (language/types: "Numeric literals")."""
    if node.is_string:
        return None
    text = str(node.this)
    if "e" in text.lower():
        return typed(node, "double")
    if "." in text:
        integral, _, fraction = text.lstrip("+-").partition(".")
        precision = max(len(integral.lstrip("0")) + len(fraction), 1)
        if precision > 38:
            return None
        return typed(node, f"decimal({precision},{len(fraction)})")
    if text.isdigit():
        value = int(text)
        if value < _INT32:
            return typed(node, "integer")
        if value < 2**63:
            return typed(node, "bigint")
    return None


@rule(exp.Neg)
def negation(node: exp.Neg) -> exp.Expression | None:
    dt = types.of(node.this)
    if not types.is_numeric(dt):
        return None
    return typed(node, dt)


def wider_integer(left: exp.DataType, right: exp.DataType) -> exp.DataType:
    return left if types.decimal_parts(left)[0] >= types.decimal_parts(right)[0] else right


def floating_result(left: exp.DataType, right: exp.DataType) -> str:
    return "double" if T.DOUBLE in (left.this, right.this) else "real"


def _as(node: exp.Expression, dt: exp.DataType) -> exp.Expression:
    """An operand computed in DuckDB as type `dt` (a cast when its Trino type differs)."""
    if types.of(node).this == dt.this and not types.is_decimal(dt):
        return node
    return exp.Cast(this=node, to=duck(dt))


def _pow10(n: int) -> exp.Expression:
    return exp.Literal.number(10**n)


def _unscaled(node: exp.Expression, scale: int) -> exp.Expression:
    """The unscaled 128-bit integer of an exact number of (Trino) scale `scale`."""
    scaled = exp.Mul(this=exp.Paren(this=node), expression=_pow10(scale)) if scale else node
    return exp.Cast(this=scaled, to=exp.DataType.build("HUGEINT", dialect="duckdb"))


def _from_unscaled(unscaled: exp.Expression, precision: int, scale: int) -> exp.Expression:
    whole = exp.Cast(this=unscaled, to=exp.DataType.build("DECIMAL(38,0)", dialect="duckdb"))
    if scale:
        whole = exp.Mul(this=whole, expression=exp.Literal.number("0." + "0" * (scale - 1) + "1"))
    return cast(whole, types.decimal(precision, scale))


def _decimal_divide(node: exp.Div, p1: int, s1: int, p2: int, s2: int) -> exp.Expression:
    """Trino DecimalOperators.divide: decimal(min(38, p1 + s2 + max(s2 - s1, 0)), max(s1, s2)),
    the quotient rounded half up (away from zero: UnscaledDecimal128Arithmetic.divideRoundUp)."""
    scale = max(s1, s2)
    precision = min(38, p1 + s2 + max(s2 - s1, 0))
    rescale = scale - s1 + s2
    n = _unscaled(node.this, s1)
    if rescale:
        n = exp.Mul(this=n, expression=_pow10(rescale))
    d = _unscaled(node.expression, s2)
    template = sqlglot_duck("SIGN(:n) * SIGN(:d) * ((2 * ABS(:n) + ABS(:d)) // (2 * ABS(:d)))")
    quotient = exp.replace_placeholders(template, n=exp.Paren(this=n), d=exp.Paren(this=d))
    return _from_unscaled(quotient, precision, scale)


def sqlglot_duck(sql: str) -> exp.Expression:

    return duckdb_tree(sql)


@rule(exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
def arithmetic(node: exp.Binary) -> exp.Expression | None:
    left, right = types.of(node.this), types.of(node.expression)
    if not (types.is_numeric(left) and types.is_numeric(right)):
        return None  # date/time arithmetic and unknown (NULL) operands: not this rule's
    if types.is_floating(left) or types.is_floating(right):
        return typed(node, floating_result(left, right))
    if types.is_integer(left) and types.is_integer(right):
        result = wider_integer(left, right)
        a, b = _as(node.this, result), _as(node.expression, result)
        if isinstance(node, exp.Div):
            # 7 / 2 = 3, -7 / 2 = -3: DuckDB's // truncates toward zero too, and fails on zero
            return typed(exp.IntDiv(this=a, expression=b), result)
        return typed(node.__class__(this=a, expression=b), result)
    # exact, at least one side decimal: Trino widens an integer side to decimal(10,0)...
    (p1, s1), (p2, s2) = types.decimal_parts(left), types.decimal_parts(right)
    if isinstance(node, exp.Div):
        return _decimal_divide(node, p1, s1, p2, s2)
    if isinstance(node, (exp.Add, exp.Sub)):
        scale = max(s1, s2)
        precision = min(38, max(p1 - s1, p2 - s2) + scale + 1)
    elif isinstance(node, exp.Mul):
        scale, precision = s1 + s2, min(38, p1 + p2)
        if scale > 38:
            return None
    else:  # modulus: DecimalOperators.modulus
        scale = max(s1, s2)
        precision = min(38, min(p1 - s1, p2 - s2) + scale)
    return cast(node.__class__(this=node.this, expression=node.expression), types.decimal(precision, scale))


@rule(exp.BitwiseAnd, exp.BitwiseOr, exp.BitwiseXor, exp.BitwiseNot)
def bitwise(node: exp.Expression) -> exp.Expression | None:
    """functions/bitwise: bitwise_and/or/xor/not take and return bigint; DuckDB's & | xor ~
    keep their operands' width (5 & 3 is an INTEGER), so the operands are widened first."""
    operands = [node.this] + ([node.expression] if isinstance(node, exp.Binary) else [])
    if not all(types.is_integer(types.of(o)) for o in operands):
        return None  # unknown (NULL) operands: left as DuckDB has them
    bigint = types.build("bigint")
    if isinstance(node, exp.Binary):
        return typed(node.__class__(this=_as(node.this, bigint), expression=_as(node.expression, bigint)), bigint)
    return typed(exp.BitwiseNot(this=_as(node.this, bigint)), bigint)
