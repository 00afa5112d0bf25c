"""Trino's rules for arithmetic: the functions below, rewritten where DuckDB answers otherwise."""
from __future__ import annotations

from glue_jobs.adapters.local.athena_sql.surface import EXACT, declare

declare("functions/math", EXACT, "mod")


from sqlglot import exp  # noqa: E402

from glue_jobs.adapters.local.athena_sql import types  # noqa: E402
from glue_jobs.adapters.local.athena_sql.rules import rule, typed  # noqa: E402


@rule(exp.Div)
def integer_division(node: exp.Div) -> exp.Expression | None:
    """Trino: an integer divided by an integer is an integer, truncated toward zero (7 / 2 =
    3, -7 / 2 = -3), of the wider type; by zero it fails with "Division by zero". DuckDB's
    `//` does exactly that (and raises on zero)."""
    left, right = types.of(node.this), types.of(node.expression)
    if not (types.is_integer(left) and types.is_integer(right)):
        return None
    wider = left if types.decimal_parts(left)[0] >= types.decimal_parts(right)[0] else right
    return typed(exp.IntDiv(this=node.this, expression=node.expression), wider)
