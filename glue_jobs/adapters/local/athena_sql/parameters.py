"""The values a statement is run with, apart from its shape: pure.

The pipeline runs the same SQL files every day with other ingest run ids and dates in their
IN lists and equalities. A statement's translation depends on its shape and its schema, not on
those values, so the engine translates the shape once (and keeps it on disk across runs) and
binds each day's values into the translated text."""
from __future__ import annotations

from sqlglot import exp

_SENTINEL = "__tickerlake_value_{}__"


def parameterize(trees: list[exp.Expression]) -> tuple[str, tuple[str, ...]]:
    """(the statements as Trino text with each bindable value replaced by a numbered sentinel,
    the values in order). Bindable: a string literal in an IN list, or compared with = or <>
    to a column; no rule reads those values (units, formats and patterns are arguments of
    functions, dates are casts), so the translation of the shape holds for every value."""
    values: list[str] = []
    out = []
    for tree in trees:
        copy = tree.copy()
        for literal in list(copy.find_all(exp.Literal)):
            if literal.is_string and _bindable(literal):
                values.append(literal.this)
                literal.set("this", _SENTINEL.format(len(values) - 1))
        out.append(copy.sql(dialect="trino"))
    return ";\n".join(out), tuple(values)


def _bindable(literal: exp.Literal) -> bool:
    parent = literal.parent
    if isinstance(parent, exp.In):
        return literal in parent.expressions
    if isinstance(parent, (exp.EQ, exp.NEQ)):
        other = parent.expression if parent.this is literal else parent.this
        return isinstance(other, exp.Column)
    return False


def bind(statements: tuple[str, ...], values: tuple[str, ...]) -> tuple[str, ...]:
    """The translated statements with each sentinel literal replaced by its value's literal."""
    if not values:
        return statements
    out = []
    for statement in statements:
        for n, value in enumerate(values):
            statement = statement.replace(f"'{_SENTINEL.format(n)}'", "'" + value.replace("'", "''") + "'")
        out.append(statement)
    return tuple(out)
