"""What a user's query may do: read the catalog's tables, nothing else. Pure: takes SQL text,
returns or raises; no engine, no lake.

`tickerlake query` (and anything else that runs SQL a person typed) checks the statement
here, in Athena's dialect, before it is translated for any engine. Allowed: one SELECT /
WITH / VALUES query, SHOW, DESCRIBE, or EXPLAIN [ANALYZE] of an allowed statement. Refused,
naming the construct: any other statement (COPY, ATTACH, INSTALL, LOAD, SET, PRAGMA, CREATE,
INSERT, ...), more than one statement, a table function in FROM other than UNNEST (read_csv,
read_parquet, glob, ...), a function that reads files, the network or the engine's state, and
a table name that is not a plain name (a file path such as "/etc/passwd").

This is the first of two checks: the local engine also runs user queries on a connection
that can reach no file outside the catalog's tables and runs nothing but a query (see
glue_jobs/adapters/local/duckdb_engine.py, read_only_query).
"""
from __future__ import annotations

import logging
import re

from glue_jobs.lake.errors import ConfigError

ALLOWED_STARTS = ("SELECT", "WITH", "VALUES", "SHOW", "DESCRIBE", "DESC", "EXPLAIN")
SHOW_FORMS = ("TABLES", "COLUMNS", "SCHEMAS", "DATABASES", "VIEWS", "PARTITIONS", "CREATE", "TBLPROPERTIES")
ALLOWED_DATABASES = ("", "stocks", "information_schema")
ALLOWED_CATALOGS = ("", "awsdatacatalog")

# Functions that reach files, the network, extensions, settings or other databases (DuckDB,
# Trino and friends). Matched on the lower-cased name; a name in quotes or odd case is the
# same name.
_DENIED_FUNCTIONS = {
    "glob", "query", "query_table", "sniff_csv", "getenv", "current_setting", "load_extension",
    "checkpoint", "force_checkpoint", "json_execute_serialized_sql", "which_secret", "summary",
    "csv_scan", "parquet_scan", "sequence_scan", "arrow_scan", "pandas_scan", "seq_scan",
}
_DENIED_PATTERN = re.compile(
    r"^(read_|write_|parquet_|iceberg_|delta_|sqlite_|postgres_|mysql_|http_|s3_|duckdb_|pragma_|"
    r"copy_|enable_|disable_|test_|system\.|ducklake_)|_scan$|_metadata$|_attach$"
)
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class QueryRefused(ConfigError):
    """The statement does something a read-only query may not; the message names it."""

    kind = None  # the message starts "query refused:"

    def __init__(self, construct: str, why: str):
        self.construct = construct
        super().__init__(f"query refused: {construct} {why}; `tickerlake query` is read-only and "
                         f"sees only the catalog's tables (SELECT, WITH, VALUES, SHOW, DESCRIBE, EXPLAIN)")


def check_read_only(sql: str) -> None:
    """Raise QueryRefused unless `sql` is one statement that only reads the catalog's tables."""
    statements = _split(_tokens(sql))
    if not statements:
        raise QueryRefused("an empty statement", "has nothing to run")
    if len(statements) > 1:
        raise QueryRefused(f"more than one statement ({len(statements)})",
                           "is not allowed: run one statement at a time")
    tokens = statements[0]
    _check_statement(sql[tokens[0].start:tokens[-1].end + 1])


def is_denied_function(name: str) -> bool:
    name = name.strip().strip('"').lower()
    return name in _DENIED_FUNCTIONS or bool(_DENIED_PATTERN.search(name))


# -- one statement -------------------------------------------------------------------------------

def _check_statement(text: str) -> None:
    tokens = _tokens(text)
    if not tokens:
        raise QueryRefused("an empty statement", "has nothing to run")
    first = tokens[0]
    word = first.text.upper()
    if word == "(":
        word = next((t.text.upper() for t in tokens if t.text != "("), word)
        if word not in ("SELECT", "WITH", "VALUES"):
            raise QueryRefused(word, "is not a query")
    if word not in ALLOWED_STARTS:
        raise QueryRefused(word, "is not allowed")
    _check_function_names(tokens)
    rest = text[first.end + 1:]
    if word == "EXPLAIN":
        explained = _after_explain(rest)
        if not explained.strip():
            raise QueryRefused("EXPLAIN", "needs a statement to explain")
        try:
            _check_statement(explained)
        except QueryRefused as exc:
            raise QueryRefused(f"EXPLAIN ... {exc.construct}", "is not allowed: only a query may be explained") from None
        return
    if word == "SHOW":
        words = _tokens(rest)
        form = words[0].text.upper() if words else ""
        if form not in SHOW_FORMS:
            raise QueryRefused(f"SHOW {form}".strip(), f"is not allowed (SHOW {', '.join(SHOW_FORMS)} are)")
        _check_names_in(words[1:])
        return
    _check_tree(_parse(text), word)


def _after_explain(text: str) -> str:
    """The statement an EXPLAIN explains: the text after EXPLAIN [ANALYZE] [VERBOSE] [(options)]."""
    while True:
        tokens = _tokens(text)
        if tokens and tokens[0].text.upper() in ("ANALYZE", "VERBOSE"):
            text = text[tokens[0].end + 1:]
            continue
        if len(tokens) > 1 and tokens[0].text == "(" and tokens[1].text.upper() in ("FORMAT", "TYPE"):
            depth = 0
            for t in tokens:
                depth += {"(": 1, ")": -1}.get(t.text, 0)
                if depth == 0:
                    text = text[t.end + 1:]
                    break
            else:
                return text
            continue
        return text


def _check_function_names(tokens: list) -> None:
    """Any name called like a function (`name(`, quoted or not, any case) that reaches outside
    the catalog's tables, whether or not the rest of the statement parses."""
    for t, after in zip(tokens, tokens[1:]):
        if after.text == "(" and is_denied_function(t.text):
            raise QueryRefused(f"the function {t.text.lower()}", "reads or writes outside the catalog's tables")


def _check_names_in(tokens: list) -> None:
    """SHOW ... names tables by plain or dotted names, nothing else (no strings but LIKE's)."""
    from sqlglot.tokens import TokenType

    for n, t in enumerate(tokens):
        if t.token_type in (TokenType.VAR, TokenType.IDENTIFIER) and not _PLAIN_NAME.match(t.text):
            raise QueryRefused(f"the name {t.text!r}", "is not a table of the catalog")
        if t.token_type == TokenType.STRING and not (n and tokens[n - 1].text.upper() == "LIKE"):
            raise QueryRefused(f"the string {t.text!r}", "is not a table of the catalog")


def _parse(text: str):
    import sqlglot

    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "falling back to parsing as a Command" is ours to judge
    try:
        trees = [t for t in sqlglot.parse(text, read="trino") if t is not None]
    except sqlglot.errors.ParseError as exc:
        raise ConfigError(f"not valid Athena SQL: {str(exc).splitlines()[0]}") from None
    finally:
        quiet.setLevel(level)
    if len(trees) != 1:
        raise QueryRefused(f"more than one statement ({len(trees)})", "is not allowed: run one statement at a time")
    return trees[0]


def _check_tree(tree, word: str) -> None:
    from sqlglot import exp

    if not isinstance(tree, (exp.Query, exp.Values, exp.Describe)):
        raise QueryRefused(word, f"is not a query (read as {type(tree).__name__.upper()})")
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    for node in tree.walk():
        if isinstance(node, (exp.DDL, exp.DML, exp.Command, exp.Set, exp.Pragma, exp.Copy, exp.Use,
                             exp.Drop, exp.Alter, exp.Merge, exp.Grant)):
            kind = type(node).__name__.upper()
            raise QueryRefused(kind, "is not allowed inside a query")
        if isinstance(node, exp.Table):
            _check_table(node, ctes)
        elif isinstance(node, exp.Func) and not isinstance(node, exp.Unnest):
            name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
            if is_denied_function(name):
                raise QueryRefused(f"the function {name.lower()}", "reads or writes outside the catalog's tables")


def _check_table(table, ctes: set[str]) -> None:
    from sqlglot import exp

    target = table.this
    if isinstance(target, exp.Func) and not isinstance(target, exp.Unnest):
        name = target.name if isinstance(target, exp.Anonymous) else target.sql_name()
        raise QueryRefused(f"the table function {name.lower()}",
                           "is not allowed: a query reads the catalog's tables (and UNNEST) only")
    if not isinstance(target, exp.Identifier):
        raise QueryRefused(f"FROM {target.sql('trino')[:60]}", "is not a table of the catalog")
    name = target.this
    if not _PLAIN_NAME.match(name):
        raise QueryRefused(f"the table name {name!r}", "is not a table of the catalog (a file path is not a table)")
    db, catalog = (table.db or "").lower(), (table.catalog or "").lower()
    if not db and name.lower() in ctes:
        return
    if db not in ALLOWED_DATABASES or catalog not in ALLOWED_CATALOGS:
        where = ".".join(p for p in (catalog, db, name) if p)
        raise QueryRefused(f"the table {where}", f"is not in the catalog's database ({', '.join(d for d in ALLOWED_DATABASES if d)})")


# -- tokens ----------------------------------------------------------------------------------------

def _tokens(sql: str) -> list:
    import sqlglot

    try:
        return list(sqlglot.Dialect.get_or_raise("trino").tokenize(sql))
    except sqlglot.errors.TokenError as exc:
        raise ConfigError(f"not valid Athena SQL: {exc}") from None


def _split(tokens: list) -> list[list]:
    from sqlglot.tokens import TokenType

    out, current = [], []
    for t in tokens:
        if t.token_type == TokenType.SEMICOLON:
            if current:
                out.append(current)
            current = []
        else:
            current.append(t)
    if current:
        out.append(current)
    return out
