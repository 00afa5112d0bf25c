"""Trino's types as sqlglot spells them: how Athena names them, how DuckDB casts to them.

sqlglot annotates every node with an `exp.DataType`; these helpers ask questions of it in
Trino's terms (is this an exact integer? a decimal, and of what scale?)."""
from __future__ import annotations

from sqlglot import exp

T = exp.DataType.Type

INTEGERS = {T.TINYINT: "tinyint", T.SMALLINT: "smallint", T.INT: "integer", T.BIGINT: "bigint"}
_SIMPLE = {
    **INTEGERS,
    T.DOUBLE: "double",
    T.FLOAT: "real",
    T.BOOLEAN: "boolean",
    T.DATE: "date",
    T.VARCHAR: "varchar",
    T.TEXT: "varchar",
    T.CHAR: "char",
}
_DUCK_SIMPLE = {
    T.TINYINT: "TINYINT", T.SMALLINT: "SMALLINT", T.INT: "INTEGER", T.BIGINT: "BIGINT",
    T.DOUBLE: "DOUBLE", T.FLOAT: "FLOAT", T.BOOLEAN: "BOOLEAN", T.DATE: "DATE",
    T.VARCHAR: "VARCHAR", T.TEXT: "VARCHAR", T.CHAR: "VARCHAR",
}


def build(text: str) -> exp.DataType:
    """A type from its Trino spelling: 'bigint', 'decimal(10,2)', 'array(varchar)'."""
    return exp.DataType.build(text, dialect="trino")


def of(node: exp.Expression) -> exp.DataType:
    return node.type if isinstance(node.type, exp.DataType) else build("unknown")


def is_integer(dt: exp.DataType) -> bool:
    return dt.this in INTEGERS


def is_decimal(dt: exp.DataType) -> bool:
    return dt.this == T.DECIMAL


def is_exact(dt: exp.DataType) -> bool:
    return is_integer(dt) or is_decimal(dt)


def is_floating(dt: exp.DataType) -> bool:
    return dt.this in (T.DOUBLE, T.FLOAT)


def is_numeric(dt: exp.DataType) -> bool:
    return is_exact(dt) or is_floating(dt)


def is_string(dt: exp.DataType) -> bool:
    return dt.this in (T.VARCHAR, T.TEXT, T.CHAR)


def is_date(dt: exp.DataType) -> bool:
    return dt.this == T.DATE


def is_timestamp(dt: exp.DataType) -> bool:
    return dt.this in (T.TIMESTAMP, T.TIMESTAMP_MS, T.TIMESTAMP_S, T.TIMESTAMP_NS, T.DATETIME)


def is_known(dt: exp.DataType) -> bool:
    return dt.this not in (T.UNKNOWN, T.NULL)


def decimal_parts(dt: exp.DataType) -> tuple[int, int]:
    """(precision, scale) of a decimal type, or of the decimal an integer type widens to
    (Trino: tinyint 3, smallint 5, integer 10, bigint 19 digits, scale 0)."""
    if is_integer(dt):
        return {T.TINYINT: 3, T.SMALLINT: 5, T.INT: 10, T.BIGINT: 19}[dt.this], 0
    params = [int(p.this.this) if isinstance(p.this, exp.Literal) else int(p.name) for p in dt.expressions]
    if not params:
        return 38, 0
    return params[0], params[1] if len(params) > 1 else 0


def decimal(precision: int, scale: int) -> exp.DataType:
    return build(f"decimal({min(precision, 38)},{scale})")


def athena_name(dt: exp.DataType) -> str:
    """The type as Athena names it in a result's metadata ('bigint', 'decimal(10,2)',
    'timestamp(3)', 'array(varchar)', 'map(varchar, bigint)'); 'unknown' when not known."""
    if dt.this in _SIMPLE:
        if dt.this in (T.VARCHAR, T.CHAR) and dt.expressions:
            return f"{_SIMPLE[dt.this]}({dt.expressions[0].name})"
        return _SIMPLE[dt.this]
    if is_decimal(dt):
        p, s = decimal_parts(dt)
        return f"decimal({p},{s})"
    if is_timestamp(dt):
        return "timestamp(3)"
    if dt.this == T.ARRAY and dt.expressions:
        return f"array({athena_name(dt.expressions[0])})"
    if dt.this == T.MAP and len(dt.expressions) == 2:
        return f"map({athena_name(dt.expressions[0])}, {athena_name(dt.expressions[1])})"
    return "unknown"


def duck_cast_type(dt: exp.DataType) -> str | None:
    """The DuckDB type a result column of Trino type `dt` is cast to so that a program reading
    it sees Athena's type (bigint, not DuckDB's 128-bit sums; timestamps in milliseconds);
    None when the value is left as DuckDB returns it."""
    if dt.this in _DUCK_SIMPLE:
        return _DUCK_SIMPLE[dt.this]
    if is_decimal(dt):
        p, s = decimal_parts(dt)
        return f"DECIMAL({p},{s})"
    if is_timestamp(dt):
        return "TIMESTAMP_MS"
    if dt.this == T.ARRAY and dt.expressions:
        inner = duck_cast_type(dt.expressions[0])
        return f"{inner}[]" if inner else None
    if dt.this == T.MAP and len(dt.expressions) == 2:
        k, v = (duck_cast_type(e) for e in dt.expressions)
        return f"MAP({k}, {v})" if k and v else None
    return None


_HIVE = {"string": "varchar", "int": "integer", "float": "real"}


def hive_to_trino(hive_type: str) -> str:
    """A Glue (Hive) column type as Athena's engine types it: string is varchar, int integer."""
    t = hive_type.strip().lower()
    return _HIVE.get(t, t)
