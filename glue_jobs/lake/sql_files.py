"""SQL files by name, and their `{{name}}` parameters rendered safely.

The SQL lives in the top-level `sql/` directory (Athena's dialect), which the wheel ships
as the package `glue_jobs.sql`. A placeholder is `{{name}}` (jinja-compatible, so sqlfluff's
jinja templater can lint the files). Values are rendered as SQL literals: strings quoted with
their quotes doubled, dates as `date '...'`, lists as comma-separated literals (for `in (...)`).
Identifiers (table names) must be wrapped in `Identifier` and are checked, never quoted
through; a SELECT one file feeds another is rendered from its own file by `subquery`. Nothing
a caller passes can end a literal or add a statement.

>>> render_text("select * from {{table}} where symbol = {{symbol}}",
...             {"table": Identifier("stocks.daily_prices"), "symbol": "O'NEIL"})
"select * from stocks.daily_prices where symbol = 'O''NEIL'"
"""
from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_SQL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.(sql|yml)$")


class SqlTemplateError(ValueError):
    """A SQL file is missing, or its parameters do not match what it needs."""


class Identifier(str):
    """A table or column name to substitute as is (after checking it is a plain name)."""

    def __new__(cls, value: str) -> Identifier:
        if not _IDENTIFIER.match(value):
            raise SqlTemplateError(
                f"{value!r} is not a plain SQL identifier (letters, digits, '_', optionally schema.name)"
            )
        return super().__new__(cls, value)


class Subquery(str):
    """Another SQL file's SELECT, rendered (by `subquery`), to substitute as is inside parentheses."""


@lru_cache(maxsize=1)
def sql_dir() -> Path:
    """Where the SQL files are: glue_jobs/sql/ in an installed wheel, else the repo's sql/."""
    package = Path(__file__).resolve().parents[1]  # glue_jobs/
    for candidate in (package / "sql", package.parent / "sql"):
        if (candidate / "wap/write_temp/write_temp.sql").is_file():
            return candidate
    raise SqlTemplateError(f"no SQL directory found beside {package} (expected glue_jobs/sql or sql/)")


def path_of(name: str) -> Path:
    if not _SQL_NAME.match(name) or ".." in name.split("/"):
        raise SqlTemplateError(f"{name!r} is not a SQL file name under sql/ (e.g. 'views/daily_returns.sql')")
    path = sql_dir() / name
    if not path.is_file():
        raise SqlTemplateError(f"SQL file sql/{name} does not exist (looked in {sql_dir()})")
    return path


@lru_cache(maxsize=256)
def load(name: str) -> str:
    """The text of sql/<name>, e.g. load('views/daily_returns.sql')."""
    return path_of(name).read_text(encoding="utf-8")


def names(folder: str) -> list[str]:
    """The .sql files of one folder of sql/, as names for `load`, sorted."""
    base = sql_dir() / folder
    return sorted(f"{folder}/{p.name}" for p in base.glob("*.sql")) if base.is_dir() else []


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def literal(value: Any) -> str:
    """One Python value as an Athena/Trino SQL literal."""
    if value is None:
        return "null"
    if isinstance(value, (Identifier, Subquery)):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SqlTemplateError(f"{value!r} has no SQL literal")
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"timestamp '{value.replace(tzinfo=None).isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"date '{value.isoformat()}'"
    if isinstance(value, str):
        if "\x00" in value:
            raise SqlTemplateError("a string literal may not hold a NUL character")
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        if not items:
            # `in ()` is a syntax error; a list that matches nothing keeps the query valid.
            return "null"
        return ", ".join(literal(v) for v in items)
    raise SqlTemplateError(f"cannot render a {type(value).__name__} as a SQL literal: {value!r}")


def render_text(text: str, params: dict[str, Any] | None = None, *, origin: str = "SQL") -> str:
    """Substitute every `{{name}}`; a missing or unused parameter is an error (a typo, surely)."""
    params = params or {}
    wanted = placeholders(text)
    missing = wanted - set(params)
    if missing:
        raise SqlTemplateError(f"{origin} needs parameter(s) {', '.join(sorted(missing))}")
    unused = set(params) - wanted
    if unused:
        raise SqlTemplateError(f"{origin} has no placeholder for parameter(s) {', '.join(sorted(unused))}")
    return _PLACEHOLDER.sub(lambda m: literal(params[m.group(1)]), text)


def render(name: str, params: dict[str, Any] | None = None) -> str:
    """sql/<name> with its parameters substituted, headed by a comment naming the file so
    engines can name it in errors."""
    body = render_text(load(name), params, origin=f"sql/{name}")
    return f"-- sql/{name}\n{body}"


def subquery(name: str, params: dict[str, Any] | None = None) -> Subquery:
    """sql/<name> rendered, for another file to read as a subquery: `from ({{rows}}) as r`."""
    return Subquery(render(name, params) + "\n")


def table_refs(sql: str) -> set[str]:
    """The `schema.table` names a statement reads (lower case); CTE names are not tables."""
    import sqlglot

    return table_refs_of(sqlglot.parse(_blank_placeholders(sql), read="trino"))


def table_refs_of(statements: list) -> set[str]:
    """table_refs of statements sqlglot already parsed (an engine parses each statement once)."""
    from sqlglot import exp

    refs: set[str] = set()
    for statement in statements:
        if statement is None:
            continue
        ctes = {c.alias_or_name.lower() for c in statement.find_all(exp.CTE)}
        created = statement.this if isinstance(statement, exp.Create) else None
        for table in statement.find_all(exp.Table):
            if table is created or (isinstance(created, exp.Schema) and table is created.this):
                continue
            name = table.name.lower()
            db = table.db.lower() if table.db else ""
            if not db and name in ctes:
                continue
            if name:
                refs.add(f"{db}.{name}" if db else name)
    return refs


def view_order(views: dict[str, str]) -> list[str]:
    """View names in an order where each comes after the views it reads (for CREATE VIEW)."""
    done: list[str] = []
    deps = {name: {r.split(".")[-1] for r in table_refs(sql)} & set(views) - {name} for name, sql in views.items()}

    def visit(name: str, stack: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in stack:
            raise SqlTemplateError(f"views read each other in a circle: {' -> '.join(stack + (name,))}")
        for dep in sorted(deps[name]):
            visit(dep, stack + (name,))
        done.append(name)

    for name in sorted(views):
        visit(name, ())
    return done


def _blank_placeholders(sql: str) -> str:
    return _PLACEHOLDER.sub("null", sql)
