"""Rewrites by Trino's rules, one module per area; each registers what it owns.

A rule takes a node whose children are already rewritten and typed (Trino types, see
../types.py) and returns the node that computes Trino's answer in DuckDB, with its `.type`
set, or None to leave the node as it is. Rules are keyed by sqlglot node class (exp.Div,
exp.DateDiff) or, for functions sqlglot does not know, by the lower-case Trino name.

Each module also lists its functions in SURFACE (../surface.py): exact, approximate (with
the bound), or refused. A function that no module lists is refused as not emulated yet.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sqlglot
from sqlglot import exp

Rule = Callable[[exp.Expression], "exp.Expression | None"]

BY_CLASS: dict[type, Rule] = {}
BY_NAME: dict[str, Rule] = {}


def rule(*keys: type | str) -> Callable[[Rule], Rule]:
    """Register `fn` as the rewrite of these node classes / function names."""

    def register(fn: Rule) -> Rule:
        for key in keys:
            table = BY_NAME if isinstance(key, str) else BY_CLASS
            name = key.lower() if isinstance(key, str) else key
            if name in table:
                if table[name] is fn or fn in getattr(table[name], "chained", ()):
                    raise RuntimeError(f"{fn.__module__}.{fn.__name__} registered twice for {key!r}")
                table[name] = _chained(table[name], fn)
            else:
                table[name] = fn
        return fn

    return register


def _chained(first: Rule, then: Rule) -> Rule:
    """Two areas' rules for one node class (exp.Add: decimal arithmetic, and date + interval):
    each is tried in the order registered; the first that returns a node wins."""
    rules = (*getattr(first, "chained", (first,)), then)

    def chain(node: exp.Expression) -> exp.Expression | None:
        for fn in rules:
            new = fn(node)
            if new is not None:
                return new
        return None

    chain.chained = rules  # type: ignore[attr-defined]
    return chain


def duckdb_tree(sql: str) -> exp.Expression:
    """A DuckDB expression parsed from a rule's template text: a fresh copy of a parse made
    once per process (parsing the templates again for every statement cost a day's run a
    tenth of a second)."""
    return _parsed(sql).copy()


@lru_cache(maxsize=4096)
def _parsed(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="duckdb")


def fail(message: str) -> str:
    """DuckDB SQL text that fails at run time with Athena's message (the engine shows the text
    after errors.RUNTIME_ERROR_MARK)."""
    from glue_jobs.adapters.local.athena_sql.errors import RUNTIME_ERROR_MARK

    return "error('" + (RUNTIME_ERROR_MARK + message).replace("'", "''") + "')"


def typed(node: exp.Expression, dt: exp.DataType | str) -> exp.Expression:
    """`node` with its Trino type set and marked as known (a result column of this type is
    cast to it; a type only sqlglot guessed is not trusted that far)."""
    node.type = dt if isinstance(dt, exp.DataType) else exp.DataType.build(dt, dialect="trino")
    node.meta["trino_typed"] = True
    return node


def is_trusted(node: exp.Expression) -> bool:
    """Whether the node's type is Trino's for sure: set by a rule, or a literal or cast."""
    return bool(node.meta.get("trino_typed")) or isinstance(node, (exp.Literal, exp.Cast, exp.Boolean))


def lookup(node: exp.Expression) -> Rule | None:
    if isinstance(node, exp.Anonymous):
        return BY_NAME.get(node.name.lower())
    for cls in type(node).__mro__:
        if cls in BY_CLASS:
            return BY_CLASS[cls]
        if cls is exp.Expression:
            break
    return None


def load_all() -> None:
    """Import every rules module (each registers itself on import)."""
    from glue_jobs.adapters.local.athena_sql.rules import (  # noqa: F401
        aggregates,
        arithmetic,
        casts,
        collections,
        datetime,
        mathematics,
        strings,
    )


def type_lambda_parameters(tree: exp.Expression) -> bool:
    """Type the parameters of the tree's lambdas (see rules/collections.py); whether any changed."""
    from glue_jobs.adapters.local.athena_sql.rules.collections import type_lambda_parameters as typer

    return typer(tree)
