"""Athena SQL text -> DuckDB statements that answer as Athena does (see __init__.py).

`translate(sql, schema)` is pure and cached: the same text over the same schema is
translated once per process."""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, TokenError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from glue_jobs.adapters.local.athena_sql import rules, strict, types
from glue_jobs.adapters.local.athena_sql.errors import AthenaRejects

Schema = Mapping[str, Mapping[str, str]]
"""table name (lower case, in the database) -> column name -> Trino type ('bigint', 'date')."""

PATH_COLUMN = "$path"  # Athena's pseudo-column of text tables: readable by name, not by `*`


@dataclass(frozen=True)
class OutputColumn:
    name: str
    athena_type: str  # as Athena's result metadata names it: 'bigint', 'timestamp(3)', 'unknown'


@dataclass(frozen=True)
class Translation:
    trees: tuple[exp.Expression, ...]  # DuckDB-ready; callers copy before changing them
    columns: tuple[OutputColumn, ...]  # of the last statement, when it is a query

    def duckdb(self, trees: tuple[exp.Expression, ...] | None = None) -> tuple[str, ...]:
        """The DuckDB statements of these trees (of the translation's own, printed once)."""
        if trees is None:
            printed = self.__dict__.get("_printed")
            if printed is None:
                printed = _printed(self.trees)
                object.__setattr__(self, "_printed", printed)
            return printed
        return _printed(trees)


def _printed(trees: tuple[exp.Expression, ...]) -> tuple[str, ...]:
    return tuple(s for s in (t.sql(dialect="duckdb") for t in trees) if s.strip())


def translate(sql: str, schema: Schema, database: str = "stocks") -> Translation:
    frozen = tuple(sorted((t, tuple(cols.items())) for t, cols in schema.items()))
    return _translate(sql, frozen, database)


def parse(sql: str) -> list[exp.Expression]:
    """The statements of an Athena SQL text, checked against Trino's grammar (parsed once per
    process: the engine asks for a statement's tables, then translates it; never change them)."""
    return list(_parse(sql))


@lru_cache(maxsize=512)
def _parse(sql: str) -> tuple[exp.Expression, ...]:
    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        strict.check_tokens(list(sqlglot.Dialect.get_or_raise("trino").tokenize(sql)))
        return tuple(t for t in sqlglot.parse(sql, read="trino") if t is not None)
    except ParseError as exc:
        where = exc.errors[0] if exc.errors else {}
        if where.get("highlight"):
            raise AthenaRejects(f"not valid Athena SQL: line {where.get('line')}:{where.get('col')}: "
                                f"mismatched input '{where['highlight']}'") from None
        raise AthenaRejects(f"not valid Athena SQL: {_first_line(str(exc))}") from None
    except TokenError as exc:
        raise AthenaRejects(f"not valid Athena SQL: {_first_line(str(exc))}") from None
    finally:
        quiet.setLevel(level)


@lru_cache(maxsize=1024)
def _translate(sql: str, frozen: tuple, database: str) -> Translation:
    rules.load_all()
    tables = {t: dict(cols) for t, cols in frozen if cols}
    schema = {database: tables} if tables else {}
    out: list[exp.Expression] = []
    columns: tuple[OutputColumn, ...] = ()
    for tree in parse(sql):
        tree, columns = _statement(tree, schema, database)
        out.append(tree)
    return Translation(tuple(out), columns)


def _statement(tree: exp.Expression, schema: dict, database: str) -> tuple[exp.Expression, tuple[OutputColumn, ...]]:
    if isinstance(tree, exp.Create) and isinstance(tree.expression, exp.Query):
        query, columns = _query(tree.expression, schema, database)
        tree = tree.copy()
        tree.set("expression", query)
        return tree, columns
    if isinstance(tree, exp.Values):  # a bare VALUES: Athena names its columns _col0, _col1, ...
        width = len(tree.expressions[0].expressions) if tree.expressions and isinstance(tree.expressions[0], exp.Tuple) else 1
        names = ", ".join(f'"_col{n}"' for n in range(width))
        tree = sqlglot.parse_one(f"SELECT * FROM ({tree.sql('trino')}) AS _values({names})", read="trino")
    if isinstance(tree, exp.Query):
        return _query(tree, schema, database)
    return tree, ()  # DROP VIEW and friends: nothing to type


def _query(tree: exp.Expression, schema: dict, database: str) -> tuple[exp.Expression, tuple[OutputColumn, ...]]:
    strict.check_functions(tree)
    _check_tables(tree, schema, database)
    explicit_path = any(c.name == PATH_COLUMN for c in tree.find_all(exp.Column))
    unaliased = _unaliased_expressions(tree)
    try:
        typed = qualify(tree.copy(), schema=schema, db=database, dialect="trino",
                        expand_alias_refs=False, quote_identifiers=True)
    except OptimizeError as exc:
        raise _resolution_error(exc, database) from None
    if not explicit_path:
        _hide_path_column(typed)
    strict.check_resolved(typed)
    typed = annotate_types(typed, schema=schema, dialect="trino")
    # a lambda's parameters typed, then its body: one round per nesting level, and each round
    # types at least one lambda for good, so there are never more rounds than lambdas
    for _ in range(sum(1 for _ in typed.find_all(exp.Lambda))):
        if not rules.type_lambda_parameters(typed):
            break
        typed = annotate_types(typed, schema=schema, dialect="trino")
    strict.check_typed(typed)
    typed = _rewrite(typed)
    return _result(typed, unaliased)


def _check_tables(tree: exp.Expression, schema: dict, database: str) -> None:
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # UNNEST and other table functions
        db = (table.db or "").lower()
        name = table.name.lower()
        if (not db and name in ctes) or db == "information_schema":
            continue
        if db in ("", database) and name not in schema.get(database, {}):
            raise AthenaRejects(f"Table 'awsdatacatalog.{database}.{name}' does not exist")


def _rewrite(tree: exp.Expression) -> exp.Expression:
    """Every node, children first, through the rule that owns it."""
    nodes = list(tree.walk(bfs=False))
    for node in reversed(nodes):
        rewrite = rules.lookup(node)
        if rewrite is None:
            continue
        new = rewrite(node)
        if new is None or new is node:
            continue
        if node is tree:
            tree = new
        else:
            node.replace(new)
    return tree


def _unaliased_expressions(tree: exp.Expression) -> set[int]:
    """Positions of the top-level select list that Athena names `_colN`: expressions that are
    neither aliased nor a column (nor a star). A star's width is known only after expansion, so a
    position after the last star is counted from the end (-1 is the last projection); one between
    two stars is left to qualify's `_col_N` name."""
    select = _first_select(tree)
    if select is None:
        return set()
    projections = select.expressions
    stars = [n for n, p in enumerate(projections) if _is_star(p)]
    unnamed = [n for n, p in enumerate(projections)
               if not _is_star(p) and not p.alias and not isinstance(p, exp.Column)]
    if not stars:
        return set(unnamed)
    return {n for n in unnamed if n < stars[0]} | {n - len(projections) for n in unnamed if n > stars[-1]}


def _is_star(projection: exp.Expression) -> bool:
    return isinstance(projection, exp.Star) or (isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star))


def _first_select(tree: exp.Expression) -> exp.Select | None:
    while isinstance(tree, (exp.SetOperation, exp.Subquery)):
        tree = tree.this
    return tree if isinstance(tree, exp.Select) else None


_QUALIFY_ALIAS = re.compile(r"^_col_(\d+)$")


def _result(tree: exp.Expression, unaliased: set[int]) -> tuple[exp.Expression, tuple[OutputColumn, ...]]:
    """The top-level select list named as Athena names it (`_col0` for an unnamed
    expression), and every select list's expressions of a known Trino type cast to the DuckDB
    type that carries it, so that a column read from a CTE or a view has it too."""
    for select in tree.find_all(exp.Select):
        for projection in select.expressions:
            inner = projection.this if isinstance(projection, exp.Alias) else projection
            duck = types.duck_cast_type(types.of(inner))
            if duck is not None and rules.is_trusted(inner) and not isinstance(inner, (exp.Star, exp.Column)):
                cast = exp.Cast(this=inner.copy(), to=exp.DataType.build(duck, dialect="duckdb"))
                cast.type = inner.type
                inner.replace(cast)
    select = _first_select(tree)
    if select is None:
        return tree, ()
    columns = []
    width = len(select.expressions)
    for n, projection in enumerate(select.expressions):
        name = projection.alias_or_name
        match = _QUALIFY_ALIAS.match(name)
        if n in unaliased or n - width in unaliased or (match and int(match.group(1)) == n):
            # Trino names every unaliased expression that is not a column `_colN`, a CAST too
            # (qualify names `CAST(x AS t)` after x)
            old, name = name, f"_col{n}"
            if isinstance(projection, exp.Alias):
                projection.set("alias", exp.to_identifier(name, quoted=True))
            else:
                projection.replace(exp.alias_(projection.copy(), name, quoted=True))
            order = select.args.get("order")  # ORDER BY 2 was resolved to qualify's name
            for column in (order.find_all(exp.Column) if order and match else ()):
                if not column.table and column.name == old:
                    column.set("this", exp.to_identifier(name, quoted=True))
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        columns.append(OutputColumn(name, types.athena_name(types.of(inner))))
    return tree, tuple(columns)


def _hide_path_column(tree: exp.Expression) -> None:
    """`select *` does not show Athena's "$path": drop it from expanded stars."""
    for select in tree.find_all(exp.Select):
        kept = [p for p in select.expressions if p.alias_or_name != PATH_COLUMN]
        if len(kept) != len(select.expressions):
            select.set("expressions", kept)


def _resolution_error(exc: OptimizeError, database: str) -> AthenaRejects:
    text = _first_line(str(exc))
    column = re.search(r"Column '\"?([^'\"]+)\"?' could not be resolved", text)
    if column:
        return AthenaRejects(f"Column '{column.group(1)}' cannot be resolved")
    # _check_tables has refused every missing table of FROM before this: an unknown table here is
    # a qualifier (`nope.*`) naming no relation of the query, which Trino's analyzer words so
    reference = re.search(r"Unknown table:? '?\"?([^'\"]+)", text)
    if reference:
        return AthenaRejects(f"Unable to resolve reference {reference.group(1)}")
    table = re.search(r"Table '?([^' ]+)'? .*not found", text)
    if table:
        return AthenaRejects(f"Table 'awsdatacatalog.{database}.{table.group(1).split('.')[-1]}' does not exist")
    return AthenaRejects(text)


def _first_line(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text.strip().splitlines()[0] if text.strip() else text)
