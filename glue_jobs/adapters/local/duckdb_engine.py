"""DuckDB behind the Engine interface: the local runtime's Athena.

Statements arrive in Athena's dialect and are transpiled with sqlglot. Before a statement
runs, every `stocks.<table>` it reads is exposed as a DuckDB view built from the catalog,
the way Athena reads a Glue table:

- CSV tables: the partitions' files split into lines and fields as Athena's LazySimpleSerDe
  does (see _csv_select), plus the partition columns and Athena's `"$path"` pseudo-column
  (which, unlike Athena, `select *` shows: a view cannot hide a column);
- Parquet tables: read_parquet over the files of each partition's *current* location only
  (older versions stay on disk until the janitor removes them, invisible to readers).

Views are rebuilt only when the table's catalog version changes, and only for tables a
statement reads, so the dashboard's many small queries pay a file read and a hash each.
The analysis views of sql/views/ are exposed the same way, so `select * from
stocks.daily_returns` works whether or not after_publish has run in this process.

A user's query (read_only_query: `tickerlake query`) runs on a second, separate DuckDB
database that can reach no file outside the catalog's tables' locations (external access
off, allowed_directories those locations, no extension loading, the configuration locked),
and only if DuckDB's own parser says it is a query (SELECT or EXPLAIN of one): whatever the
translation produced, it can neither read another file nor write any. The pipeline's own
connection keeps writing as before.
"""
from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import queue
import re
import secrets
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import sqlglot

from glue_jobs.adapters.local import athena_sql, translation_cache
from glue_jobs.lake import failpoints, layout, sql_files
from glue_jobs.lake.errors import ConfigError
from glue_jobs.ports.catalog import Catalog, CatalogError, Partition, TableDef
from glue_jobs.ports.engine import QueryError
from glue_jobs.ports.storage import Storage

log = logging.getLogger(__name__)

_DUCK_TYPES = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "date": "DATE",
    "double": "DOUBLE",
    "float": "FLOAT",
    "real": "FLOAT",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
}
DEFAULT_MEMORY_LIMIT = "2GB"
ROW_GROUP_ROWS = 122880
# Above this many partitions one listing of the table's prefix beats one listing per partition.
_LIST_WHOLE_TABLE_ABOVE = 50
SMALL_TEXT_FILE_BYTES = 64 * 1024  # a compact answer (100 bars) is 5 KB, a full one 20 years
HIVE_NULL = "\\N"  # LazySimpleSerDe's serialization.null.format


def _duck_type(hive_type: str) -> str:
    t = hive_type.lower()
    if t in _DUCK_TYPES:
        return _DUCK_TYPES[t]
    if t.startswith(("decimal", "varchar", "char")):
        return t.upper()
    raise CatalogError(f"the local engine does not know the column type {hive_type!r}")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _struct(pairs: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{_quote_str(n)}: {_quote_str(t)}" for n, t in pairs) + "}"


@lru_cache(maxsize=512)
def _refs(sql: str) -> frozenset[str]:
    """The tables a statement reads (parsed as Athena SQL; refused as Athena refuses it)."""
    return frozenset(sql_files.table_refs_of(athena_sql.parse(sql)))


def _prune_plan(trees: list, keys: dict[str, tuple[str, ...]]) -> dict[str, tuple]:
    """Table -> partition filters, for each of the `keys` tables (name -> partition keys) that
    every SELECT reading it reads alone, keeping the same values of a partition key
    (`ingest_run_id in ('a', 'b')`): the engine then exposes it over just those partitions.
    Athena prunes partitions from the catalog the same way; without it the raw table's view
    lists every body ever landed, on every run."""
    from sqlglot import exp

    plan: dict[str, tuple] = {}
    unprunable: set[str] = set()
    for tree in trees:
        for table in tree.find_all(exp.Table):
            name = table.name.lower()
            if (table.db or "").lower() not in ("", layout.DATABASE) or name not in keys:
                continue
            select = table.find_ancestor(exp.Select)
            source = (select.args.get("from_") or select.args.get("from")) if select is not None else None
            filters: tuple = ()
            if source is not None and source.this is table and not select.args.get("joins") and select.args.get("where"):
                names = {name, table.alias_or_name.lower()}
                filters = _partition_filters(select.args["where"].this, keys[name], names)
            if not filters or plan.setdefault(name, filters) != filters:
                unprunable.add(name)
    return {n: f for n, f in plan.items() if n not in unprunable}


def _partition_filters(where, partition_keys: tuple[str, ...],
                       names: set[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(key, allowed values) of each `key in (literals)` / `key = literal` ANDed into a WHERE,
    on a column of the table itself (unqualified, or qualified by one of its `names`): a
    correlated subquery's filter on the outer table's key says nothing of this one's partitions."""
    from sqlglot import exp

    conjuncts = list(where.flatten()) if isinstance(where, exp.And) else [where]
    found = {}
    for c in map(_switched, conjuncts):
        if isinstance(c, exp.In) and isinstance(c.this, exp.Column) and not c.args.get("query"):
            column, values = c.this, c.expressions
        elif isinstance(c, exp.EQ) and isinstance(c.this, exp.Column):
            column, values = c.this, [c.expression]
        else:
            continue
        key = column.name.lower()
        if column.table and column.table.lower() not in names:
            continue
        if key in partition_keys and values and all(isinstance(v, exp.Literal) for v in values):
            found[key] = tuple(sorted({str(v.this) for v in values}))
    return tuple(sorted(found.items()))


def _switched(condition):
    """`(false or x)` is `x`: a SQL file's switch turned off (write_temp.sql's `every_symbol`
    when only some symbols' rows are read), so `x` may prune. `(true or x)` keeps every row."""
    from sqlglot import exp

    inner = condition.unnest()
    if isinstance(inner, exp.Or) and isinstance(inner.this, exp.Boolean) and not inner.this.this:
        return inner.expression.unnest()
    return condition


def _label(sql: str) -> str:
    """A statement as a message names it: its SQL file, or its first 60 characters."""
    match = re.search(r"--\s*(sql/\S+\.sql)", sql)
    if match:
        return match.group(1)
    text = " ".join(re.sub(r"--[^\n]*", " ", sql).split())
    return repr(text[:60] + ("..." if len(text) > 60 else ""))


# DuckDB's integer overflow, in Trino's words (BigintOperators: "bigint addition overflow: a + b")
_OVERFLOW = re.compile(r"Overflow in (addition|subtraction|multiplication) of (INT8|INT16|INT32|INT64) \((.*)\)!")
_TRINO_INTEGER = {"INT8": "tinyint", "INT16": "smallint", "INT32": "integer", "INT64": "bigint"}


def _failure(sql: str, exc: Exception) -> QueryError:
    """A DuckDB failure as the user's: Athena's words where a rewrite raised them on purpose,
    DuckDB's (named as such) otherwise."""
    text = str(exc)
    if athena_sql.RUNTIME_ERROR_MARK in text:
        detail = text.split(athena_sql.RUNTIME_ERROR_MARK, 1)[1].strip()
    elif "Division by zero" in text:
        detail = "Division by zero"
    elif _NO_SUCH_SIGNATURE.search(text) and _NO_SUCH_SIGNATURE.search(text).group(1).lower() in sql.lower():
        # a function given arguments of types it does not take: Athena's words
        name, arguments = _NO_SUCH_SIGNATURE.search(text).groups()
        shown = ", ".join(_TRINO_NAMES.get(a.strip().upper(), a.strip().lower()) for a in arguments.split(",") if a.strip())
        detail = f"Unexpected parameters ({shown}) for function {name.lower()}"
    elif _OVERFLOW.search(text):
        match = _OVERFLOW.search(text)
        detail = f"{_TRINO_INTEGER[match.group(2)]} {match.group(1)} overflow: {match.group(3)}"
    else:
        detail = f"failed on the local engine: {text.splitlines()[0] if text else type(exc).__name__}"
    return labelled(sql, detail)


_NO_SUCH_SIGNATURE = re.compile(r"No function matches the given name and argument types '(\w+)\((.*?)\)'")
_TRINO_NAMES = {"VARCHAR": "varchar", "INTEGER": "integer", "INTEGER_LITERAL": "integer", "BIGINT": "bigint",
                "DOUBLE": "double", "FLOAT": "real", "BOOLEAN": "boolean", "DATE": "date",
                "TIMESTAMP": "timestamp(3)", "TIMESTAMP_MS": "timestamp(3)", "SMALLINT": "smallint",
                "TINYINT": "tinyint", "STRING_LITERAL": "varchar"}


def labelled(sql: str, detail: str, kind: type[QueryError] = QueryError) -> QueryError:
    error = QueryError.__new__(kind)
    QueryError.__init__(error, f"{_label(sql)}: {detail}")
    error.detail = detail  # the CLI labels a user's statement itself (by its @file)
    return error


def _listing(column: str, values: list[str], condition: str = "") -> str:
    """A SHOW answered from the catalog: one text column of these values, sorted (`condition`:
    more of the where clause, on the column); none gives no rows."""
    rows = ", ".join(f"({_quote_str(v)})" for v in values) or "(null)"
    return (f'select "{column}" from (values {rows}) as t("{column}") '
            f'where "{column}" is not null{condition} order by "{column}"')


def _utility_text(sql: str) -> str:
    """A SHOW or DESCRIBE statement as its patterns read it: comments out, no closing semicolon."""
    return re.sub(r"--[^\n]*", " ", sql).strip().rstrip(";").strip()


def _ordered_rows(columns: list[str], rows: list[list[str]]) -> str:
    """A SHOW or DESCRIBE answered from the catalog: these rows of text columns, in this order."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join("(" + ", ".join([*(_quote_str(v) for v in row), str(n)]) + ")" for n, row in enumerate(rows))
    return f'select {quoted} from (values {values}) as t({quoted}, "ordinal") order by "ordinal"'


def spill_directory() -> str:
    """Where one engine's DuckDB spills: named, not made. DuckDB makes it at its first spill
    and removes it when the connection closes, so the many engines that never spill leave
    nothing behind, even in a process that ends without running its atexit handlers (a
    forked mutant's run: one run of `make mutate` left 17,726 empty directories in /tmp when
    each engine made its own). The parent is the user's own, private, made once."""
    parent = os.path.join(tempfile.gettempdir(), f"tickerlake-duckdb-{os.getuid()}")
    try:
        os.makedirs(parent, mode=0o700, exist_ok=True)
        info = os.lstat(parent)
        private = stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077
    except OSError:
        private = False
    if not private:  # someone else's, or a link: spilled rows are the lake's data
        parent = tempfile.mkdtemp(prefix="tickerlake-duckdb-")
        atexit.register(shutil.rmtree, parent, True)
    return os.path.join(parent, f"{os.getpid()}-{secrets.token_hex(6)}")


class DuckDBEngine:
    """The Engine for a lake in a local directory (see glue_jobs.ports.engine)."""

    def __init__(self, storage: Storage, catalog: Catalog, database_path: str | None = None,
                 database: str = layout.DATABASE, memory_limit: str | None = None,
                 read_only_dirs: Sequence[str] | None = None, threads: int | None = None):
        """`read_only_dirs`: make this a reader for user queries, whose DuckDB can reach files
        under these directories only (and write none through read_only_query). `threads`:
        DuckDB's worker threads (default: one per core)."""
        import duckdb

        self.storage = storage
        self.catalog = catalog
        self.database = database
        self.memory_limit = memory_limit
        self.read_only_dirs = tuple(read_only_dirs) if read_only_dirs is not None else None
        self._reader: DuckDBEngine | None = None
        self.con = duckdb.connect(database_path or ":memory:")
        # Big sorts and window functions (a backfill's write-temp) spill here instead of
        # failing on memory.
        spill = spill_directory()
        atexit.register(shutil.rmtree, spill, True)  # a process that spilled and never closed
        self.con.execute("set temp_directory = ?", [spill])
        # progress belongs to the runner's lines; DuckDB's bar would interleave with them
        self.con.execute("set enable_progress_bar = false")
        # Bounded by default (a 5M-row write-temp peaks near the limit, a little slower than
        # unbounded), so a backfill fits a laptop or a small runner; raise it for speed.
        limit = memory_limit or os.environ.get("TICKERLAKE_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
        try:
            self.con.execute(f"set memory_limit = {_quote_str(limit)}")
        except duckdb.Error as exc:
            raise ConfigError(f"TICKERLAKE_DUCKDB_MEMORY_LIMIT {limit!r} is not a size DuckDB knows "
                              f"(e.g. 2GB, 512MB): {exc}") from None
        if threads is not None:
            self.con.execute(f"set threads = {int(threads)}")
        self._lock = threading.RLock()
        self._footers_kept = False
        # text files up to this size are read whole and split, bigger ones by read_csv
        self.small_text_file_bytes = SMALL_TEXT_FILE_BYTES
        self._table_versions: dict[str, str] = {}
        self._views_made: set[str] = set()
        self._view_columns: dict[str, dict[str, str]] = {}
        self._translations: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {}
        self.con.execute(f"create schema if not exists {database}")
        # Athena resolves unqualified names in the default database; so does this engine.
        self.con.execute(f"set search_path = '{database},main'")
        if self.read_only_dirs is not None:
            self._lock_down(self.read_only_dirs)

    def _lock_down(self, directories: Sequence[str]) -> None:
        """No file outside `directories`, no extension, no setting changed from here on."""
        listed = ", ".join(_quote_str(d) for d in directories)
        for setting in (f"set allowed_directories = [{listed}]",
                        "set autoinstall_known_extensions = false",
                        "set autoload_known_extensions = false",
                        "set allow_community_extensions = false",
                        "set enable_external_access = false",
                        "set lock_configuration = true"):
            self.con.execute(setting)

    # -- the Engine interface ----------------------------------------------------------------

    def query(self, sql: str) -> pa.Table:
        """Run a SELECT (Athena SQL) and return its rows."""
        with self._lock:
            statements = self._prepare(sql)
            for statement in statements[:-1]:
                self._run(statement, sql)
            return self._fetch(statements[-1], sql)

    def sibling(self) -> DuckDBEngine:
        """Another engine on the same lake, with a DuckDB connection and lock of its own, so
        that a caller with independent queries (the dashboard page) can have two answered at
        once: this one answers a query at a time. It shares nothing with this engine but the
        storage and catalog, which it only reads through; views it needs it makes itself.
        Made inside keeping_file_footers(), it keeps them too, for as long as it lives.

        It takes half the cores: it only ever answers beside this engine, which keeps them all
        for the queries it answers alone (the page's selection), and with a thread per core
        each, the two engines' threads took turns on the cores (on two cores: the page 0.07 s
        sooner and 0.03 s less CPU with one thread here, at 20 years)."""
        twin = DuckDBEngine(self.storage, self.catalog, database=self.database,
                            memory_limit=self.memory_limit, read_only_dirs=self.read_only_dirs,
                            threads=max(1, (os.cpu_count() or 2) // 2))
        if self._footers_kept:
            twin._keep_footers(True)
        return twin

    @contextlib.contextmanager
    def keeping_file_footers(self) -> Iterator[None]:
        """While a caller reads the same Parquet files in many queries (the dashboard page: a
        dozen queries over every year of the published table), DuckDB keeps each file's
        footer instead of reading and decoding it again in every query: about 10 ms of CPU
        per query over 20 years. Off again afterwards, so the stages' reads, which rewrite
        temp locations, stay as they were (DuckDB checks a kept footer against its file)."""
        if self._footers_kept or self.read_only_dirs is not None:  # a reader's settings are locked
            yield
            return
        self._keep_footers(True)
        try:
            yield
        finally:
            self._keep_footers(False)

    def _keep_footers(self, on: bool) -> None:
        with self._lock:
            self.con.execute(f"set parquet_metadata_cache = {str(on).lower()}")
            self._footers_kept = on

    def read_only_query(self, sql: str, *, batch_rows: int = 10_000) -> pa.RecordBatchReader:
        """Run a user's query (Athena SQL: SELECT, WITH, VALUES, SHOW TABLES/COLUMNS, DESCRIBE,
        EXPLAIN) and stream its rows in batches of `batch_rows`: a caller that stops reading
        stops the query. It runs on the reader's own DuckDB (see the module's docstring),
        which refuses anything but one query and reaches only the catalog's tables' files."""
        if self.read_only_dirs is None:
            directories = self._table_directories()
            with self._lock:
                if self._reader is None or self._reader.read_only_dirs != directories:
                    self._reader = DuckDBEngine(self.storage, self.catalog, database=self.database,
                                                memory_limit=self.memory_limit, read_only_dirs=directories)
                reader = self._reader
            return reader.read_only_query(sql, batch_rows=batch_rows)
        import duckdb

        with self._lock:
            statement = self._read_only_statement(sql)
            try:
                relation = self.con.sql(statement)
                if relation is None:
                    raise labelled(sql, "returns no rows; a user's query must be a query")
                read = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
                reader = read(batch_rows)
            except duckdb.Error as exc:
                raise _failure(sql, exc) from None
        return pa.RecordBatchReader.from_batches(reader.schema, _batches(reader, sql))

    def _table_directories(self) -> tuple[str, ...]:
        """The local directory of every table of the catalog: all a user's query may read."""
        out = set()
        for name in self.catalog.list_tables(self.database):
            table = self.catalog.get_table(self.database, name)
            if table is not None and table.location:
                out.add(str(self._local_path(table.location)).rstrip("/") + "/")
        return tuple(sorted(out))

    def _read_only_statement(self, sql: str) -> str:
        """The one DuckDB statement of a user's SQL, its tables exposed, checked by DuckDB's
        parser to be a query (or EXPLAIN [ANALYZE] of one)."""
        explain = _EXPLAIN.match(sql)
        if explain:
            inner = self._read_only_statement(sql[explain.end():])
            return ("explain analyze " if explain.group(1) else "explain ") + inner
        show = self._show(sql) or self._describe(sql)
        statements = self._prepare(show or sql)
        if len(statements) != 1:
            raise labelled(sql, f"{len(statements)} statements; a user's query is one statement")
        self._refuse_unless_query(statements[0], sql)
        return statements[0]

    def _refuse_unless_query(self, statement: str, original: str) -> None:
        import duckdb

        try:
            parsed = self.con.extract_statements(statement)
        except duckdb.Error as exc:
            raise _failure(original, exc) from None
        kinds = [p.type for p in parsed]
        if len(parsed) == 1 and kinds[0] == duckdb.StatementType.EXPLAIN:
            inner = _EXPLAIN.match(parsed[0].query)
            if inner:
                self._refuse_unless_query(parsed[0].query[inner.end():], original)
                return
        if kinds != [duckdb.StatementType.SELECT]:
            names = ", ".join(getattr(k, "name", str(k)) for k in kinds)
            raise labelled(original, f"refused by the local engine: a user's query is one "
                             f"SELECT, this is {names or 'nothing'} (the engine runs queries only)")

    def _show(self, sql: str) -> str | None:
        """Athena's SHOW TABLES / SHOW COLUMNS / SHOW SCHEMAS as the local engine answers them:
        from the catalog, never from the engine's own list of views."""
        text = _utility_text(sql)
        if not re.match(r"show\b", text, re.IGNORECASE):
            return None
        tables = re.fullmatch(r"show\s+tables(?:\s+(?:from|in)\s+(\w+))?(?:\s+like\s+'([^']*)')?",
                              text, re.IGNORECASE)
        if tables:
            if tables.group(1) and tables.group(1).lower() != self.database:
                return "select '' as tab_name where false"
            names = sorted(set(self.catalog.list_tables(self.database)) | set(_analysis_views()))
            like = f" and tab_name like {_quote_str(tables.group(2).replace('*', '%'))}" if tables.group(2) else ""
            return _listing("tab_name", names, like)
        columns = re.fullmatch(r"show\s+columns\s+(?:from|in)\s+(?:(\w+)\.)?(\w+)(?:\s+(?:from|in)\s+(\w+))?",
                               text, re.IGNORECASE)
        if columns:
            database = (columns.group(1) or columns.group(3) or self.database).lower()
            names = [name for name, _ in self._declared_columns(sql, database, columns.group(2).lower())]
            return _ordered_rows(["field"], [[n] for n in names])
        if re.fullmatch(r"show\s+(schemas|databases)", text, re.IGNORECASE):
            return f"select {_quote_str(self.database)} as database_name"
        partitions = re.fullmatch(r"show\s+partitions\s+(?:(\w+)\.)?(\w+)", text, re.IGNORECASE)
        if partitions:
            return self._show_partitions(sql, (partitions.group(1) or self.database).lower(),
                                         partitions.group(2).lower())
        raise labelled(sql, "the local engine answers SHOW TABLES, SHOW COLUMNS FROM t, SHOW PARTITIONS t "
                         "and SHOW SCHEMAS; for the rest, DESCRIBE t or Athena")

    def _describe(self, sql: str) -> str | None:
        """Athena's DESCRIBE t as the local engine answers it: each column's name and type as
        the catalog declares them (Hive's names: string, bigint, ...), the partition columns
        last, as Athena lists a Glue table's (it prints them as text lines, with the partition
        columns repeated under a heading; here they are rows of three columns, each once)."""
        text = _utility_text(sql)
        if not re.match(r"desc(ribe)?\b", text, re.IGNORECASE):
            return None
        plain = re.fullmatch(r"desc(?:ribe)?\s+(?:(\w+)\.)?(\w+)", text, re.IGNORECASE)
        if plain is None:
            raise labelled(sql, "the local engine answers DESCRIBE t (or db.t); DESCRIBE EXTENDED or FORMATTED, "
                                "of a partition or of one column, runs on Athena")
        database = (plain.group(1) or self.database).lower()
        described = self._declared_columns(sql, database, plain.group(2).lower())
        return _ordered_rows(["col_name", "data_type", "comment"], [[n, t, ""] for n, t in described])

    def _declared_columns(self, sql: str, database: str, name: str) -> list[tuple[str, str]]:
        """(name, type) of each column of a table (the catalog's, partition keys last) or of an
        analysis view (its query's, typed as Athena types them)."""
        table = self.catalog.get_table(database, name) if database == self.database else None
        if table is not None:
            return [(c.name, c.type) for c in [*table.columns, *table.partition_keys]]
        if database == self.database and name in _analysis_views():
            query = f"select * from {database}.{name}"
            return list(self._translated(query, self._schema(_refs(query)))[1].items())
        raise labelled(sql, f"table {database}.{name} does not exist (SHOW TABLES lists them)")

    def _show_partitions(self, sql: str, database: str, name: str) -> str:
        """Athena's SHOW PARTITIONS: one `partition` column, key=value pairs joined by '/', from
        the catalog (what Glue would list), sorted as Hive prints them."""
        table = self.catalog.get_table(database, name) if database == self.database else None
        if table is None and database == self.database and name in _analysis_views():
            raise labelled(sql, f"{database}.{name} is a view: it has no partitions")
        if table is None:
            raise labelled(sql, f"table {database}.{name} does not exist (SHOW TABLES lists them)")
        if not table.partition_keys:
            raise labelled(sql, f"table {database}.{name} is not partitioned")
        keys = [k.name for k in table.partition_keys]  # Glue's order, not the stored document's
        return _listing("partition", ["/".join(f"{k}={p.values[k]}" for k in keys)
                                      for p in self.catalog.list_partitions(database, name)])

    def execute(self, sql: str) -> None:
        """Run statements whose result does not matter (CREATE OR REPLACE VIEW, DROP VIEW)."""
        with self._lock:
            for statement in self._prepare(sql):
                self._run(statement, sql)
            if re.match(r"\s*(--[^\n]*\n\s*)*(create|drop)\b", sql, re.IGNORECASE):
                self._views_made.update(self._created_views(sql))

    def write_parquet(self, select_sql: str, location: str, *, cluster_by: str | None = None) -> list[str]:
        """Write the SELECT's rows as Parquet under `location`, which must hold no files yet
        (like Athena's CTAS): one file, or with `cluster_by` one file per value of that column
        (<location><column>=<value>/part-00000.parquet, the column kept in the file), which is
        much cheaper than sorting a big result and lets a reader filtering on the column skip
        the other files by their statistics. Files appear under their final names only once
        all are complete, so a crash leaves nothing a reader could pick up."""
        location = location if location.endswith("/") else location + "/"
        existing = self.storage.list_keys(location)
        if existing:
            raise QueryError(
                f"{_label(select_sql)}: refusing to write into {self.storage.uri(location)}: it already "
                f"holds {len(existing)} file(s) (e.g. {existing[0]}); a write needs a fresh, empty location"
            )
        root = self._local_path(location)
        if cluster_by is None:
            partial = root / ".tmp-part-00000.parquet"  # hidden from readers until renamed
            partial.parent.mkdir(parents=True, exist_ok=True)
        else:
            # beside the location, not in it: readers list the location, and a partial
            # clustered write has files whose names do not say they are partial
            partial = root.parent / f".tmp-{root.name}"
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
        with self._lock:
            statements = self._prepare(select_sql)
            if len(statements) != 1:
                raise labelled(select_sql, "write_parquet takes exactly one SELECT")
            try:
                if cluster_by is None:
                    self._run(f"copy ({statements[0]}) to {_quote_str(str(partial))} "
                              f"(format parquet, compression zstd, row_group_size {ROW_GROUP_ROWS})", select_sql)
                else:
                    self._write_clustered(statements[0], select_sql, partial, cluster_by)
            except BaseException:
                _remove(partial)
                raise
        if cluster_by is None:
            moves = [(partial, root / "part-00000.parquet")]
        else:
            moves = [(f, root / f.parent.name / f"part-{n:05d}.parquet")
                     for n, f in enumerate(sorted(partial.rglob("*.parquet")))]
        keys = [location + dest.relative_to(root).as_posix() for _, dest in moves]
        failpoints.hit("engine.before_rename", keys[0] if keys else location)
        for source, dest in moves:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, dest)
        if cluster_by is not None:
            _remove(partial)
        return keys

    def _write_clustered(self, statement: str, original: str, directory: Path, column: str) -> None:
        """The statement's rows into directory/<column>=<value>/part-0.parquet, one writer per
        value fed from the result as it streams. DuckDB's own partitioned COPY takes twice as
        long on a 25-million-row write-temp."""
        import duckdb
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        writers: dict[object, pq.ParquetWriter] = {}
        waiting: dict[object, list[pa.RecordBatch]] = {}

        def write(value: object, final: bool = False) -> None:
            table = pa.Table.from_batches(waiting.pop(value))
            whole = table.num_rows if final else table.num_rows - table.num_rows % ROW_GROUP_ROWS
            if whole:
                if value not in writers:
                    name = "__HIVE_DEFAULT_PARTITION__" if value is None else value
                    path = directory / f"{column}={name}" / "part-0.parquet"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    writers[value] = pq.ParquetWriter(path, table.schema, compression="zstd",
                                                      use_dictionary=_repetitive_columns(table))
                writers[value].write_table(table.slice(0, whole), row_group_size=ROW_GROUP_ROWS)
            if whole < table.num_rows:
                waiting[value] = table.slice(whole).to_batches()

        def take(batch: pa.RecordBatch) -> None:
            values = batch.column(column)
            for value in pc.unique(values).to_pylist():
                part = batch.filter(pc.is_null(values) if value is None else pc.equal(values, value))
                waiting.setdefault(value, []).append(part)
                if sum(b.num_rows for b in waiting[value]) >= ROW_GROUP_ROWS:
                    write(value)

        # the writer works while DuckDB computes the next batches
        batches: queue.Queue = queue.Queue(maxsize=2)
        failure: list[BaseException] = []

        def run_writer() -> None:
            ended = False
            try:
                while True:
                    batch = batches.get()
                    if batch is None:
                        ended = True
                        break
                    take(batch)
                for value in list(waiting):
                    write(value, final=True)
            except BaseException as exc:
                failure.append(exc)
                while not ended and batches.get() is not None:  # let the producer finish
                    pass

        writer_thread = threading.Thread(target=run_writer, name="tickerlake-parquet-writer", daemon=True)
        writer_thread.start()
        try:
            relation = self.con.sql(statement)
            read = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
            # a row group's rows at a time: with 1,000,000-row batches a day's 500,000 typed raw
            # rows were in Python at once, about 110 MB more peak memory for the same CPU
            for batch in read(ROW_GROUP_ROWS):
                if failure:
                    break
                batches.put(batch)
        except duckdb.Error as exc:
            raise _failure(original, exc) from None
        finally:
            batches.put(None)
            writer_thread.join()
            for writer in writers.values():
                writer.close()
        if failure:
            raise failure[0]

    # -- preparing a statement ---------------------------------------------------------------

    def _prepare(self, sql: str) -> tuple[str, ...]:
        """The DuckDB statements that answer `sql` as Athena does, its tables exposed.

        The statement's shape (its text with the values of IN lists and equalities set
        aside) is translated once and kept on disk (translation_cache), so a daily run does
        not pay for translating the same SQL files again; the values are bound back after."""
        refs = _refs(sql)
        schema = self._schema(refs)
        trees = athena_sql.parse(sql)
        shape, values = athena_sql.parameterize(trees)
        try:
            statements = athena_sql.bind(self._translated(shape, schema)[0], values)
        except QueryError:
            try:  # the message as the user wrote it (with their values), not the shape's
                athena_sql.translate(sql, schema, self.database)
            except QueryError as exc:
                raise labelled(sql, str(exc), type(exc)) from None
            raise
        if not statements:
            raise labelled(sql, "no statement to run")
        prunable = dict(p for p in (self._prunable(ref) for ref in refs) if p is not None)
        pruned = _prune_plan(trees, prunable) if prunable else {}
        for name, filters in pruned.items():
            self._expose_partitions(name, dict(filters))
        for ref in sorted(refs):
            if ref.rpartition(".")[2] not in pruned:
                self._expose(ref, ())
        return statements

    def _translated(self, sql: str, schema: dict[str, dict[str, str]]) -> tuple[tuple[str, ...], dict[str, str]]:
        """(DuckDB statements, result columns -> Athena types) of an Athena SQL text: from this
        process's memory, the translation cache on disk, or translated now and kept in both."""
        key = translation_cache.key(sql, schema, self.database)
        found = self._translations.get(key) or translation_cache.load(key)
        if found is None:
            translation = athena_sql.translate(sql, schema, self.database)
            found = (translation.duckdb(), {c.name: c.athena_type for c in translation.columns})
            translation_cache.store(key, found)
        self._translations[key] = found
        return found

    def _schema(self, refs: frozenset[str]) -> dict[str, dict[str, str]]:
        """Table -> column -> Trino type of the tables (and analysis views) `refs` name, and
        of the tables those views read."""
        out: dict[str, dict[str, str]] = {}
        pending = [r.rpartition(".")[2] for r in refs if r.rpartition(".")[0] in ("", self.database)]
        while pending:
            name = pending.pop()
            if name in out:
                continue
            if name in _analysis_views():
                columns = self._view_columns.get(name)
                if columns is None:
                    view_refs = _refs(_analysis_views()[name])
                    columns = self._translated(_analysis_views()[name], self._schema(view_refs))[1]
                    self._view_columns[name] = columns
                out[name] = columns
                continue
            table = self.catalog.get_table(self.database, name)
            if table is None:
                continue
            columns = {c.name.lower(): athena_sql.hive_to_trino(c.type) for c in [*table.columns, *table.partition_keys]}
            if table.format.lower() == "csv":
                columns[athena_sql.PATH_COLUMN] = "varchar"
            out[name] = columns
        return out

    def _prunable(self, ref: str) -> tuple[str, tuple[str, ...]] | None:
        """(table, partition keys) for a CSV table with partitions: its statements read only
        the partitions they keep (the Parquet tables have few partitions, and DuckDB skips
        the rest by their hive paths itself)."""
        db, _, name = ref.rpartition(".")
        if db not in ("", self.database) or name in _analysis_views():
            return None
        table = self.catalog.get_table(self.database, name)
        if table is None or table.format.lower() != "csv" or not table.partition_keys:
            return None
        return name, tuple(c.name.lower() for c in table.partition_keys)

    def _expose_partitions(self, name: str, filters: dict[str, tuple[str, ...]]) -> None:
        """The table's view over only the partitions `filters` keep (until a statement reads
        the table unfiltered: _expose then sees a version it did not make and remakes it)."""
        version = self._version(name)
        if version is None:
            return
        made = (version, tuple(sorted(filters.items())))
        if self._table_versions.get(name) == made:
            return
        table = self.catalog.get_table(self.database, name)
        keep = self.catalog.list_partitions(self.database, name, where=filters)
        self._make_table_view(name, table=table, partitions=keep)
        self._table_versions[name] = made  # type: ignore[assignment]

    def _run(self, statement: str, original: str):
        import duckdb

        try:
            return self.con.execute(statement)
        except duckdb.Error as exc:
            raise _failure(original, exc) from None

    def _fetch(self, statement: str, original: str) -> pa.Table:
        import duckdb

        try:
            relation = self.con.sql(statement)
            if relation is None:  # not a query: nothing to return
                return pa.table({})
            fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
            return fetch()
        except duckdb.Error as exc:
            raise _failure(original, exc) from None

    def _local_path(self, key: str) -> Path:
        uri = self.storage.uri(key)
        if "://" in uri:
            raise QueryError(f"the DuckDB engine reads local lakes only; {uri} is not a local path")
        return Path(uri)

    def _expose(self, ref: str, stack: tuple[str, ...]) -> None:
        db, _, name = ref.rpartition(".")
        if db not in ("", self.database):
            return
        views = _analysis_views()
        if name in views:
            if name in stack:
                return
            if name not in self._views_made:
                self._make_analysis_view(name, views[name], stack + (name,))
            return
        version = self._version(name)
        if version is None:
            if name in self._table_versions:
                self.con.execute(f"drop view if exists {self.database}.{_quote_ident(name)}")
                del self._table_versions[name]
            return
        if self._table_versions.get(name) != version:
            self._make_table_view(name)
            self._table_versions[name] = version

    def _version(self, name: str) -> str | None:
        versioned = getattr(self.catalog, "table_version", None)
        if versioned is not None:
            return versioned(self.database, name)
        table = self.catalog.get_table(self.database, name)
        if table is None:
            return None
        parts = self.catalog.list_partitions(self.database, name) if table.partition_keys else []
        return hashlib.sha1(repr((table, parts)).encode()).hexdigest()

    def _make_analysis_view(self, name: str, sql: str, stack: tuple[str, ...]) -> None:
        refs = _refs(sql)
        for ref in sorted(refs):
            self._expose(ref, stack)
        for statement in self._translated(sql, self._schema(refs))[0]:
            self._run(statement, sql)
        self._views_made.add(name)

    def _created_views(self, sql: str) -> set[str]:
        from sqlglot import exp

        out = set()
        for statement in sqlglot.parse(sql, read="trino"):
            if isinstance(statement, exp.Create) and (statement.args.get("kind") or "").upper() == "VIEW":
                table = statement.this if isinstance(statement.this, exp.Table) else statement.this.this
                out.add(table.name.lower())
        return out

    # -- catalog tables as views -------------------------------------------------------------

    def _make_table_view(self, name: str, *, table: TableDef | None = None,
                         partitions: list[Partition] | None = None) -> None:
        """A view `name` over the table's files (or over the given partitions' only)."""
        table = table or self.catalog.get_table(self.database, name)
        if table is None:
            return
        every_partition = partitions is None
        if partitions is None:
            partitions = self.catalog.list_partitions(self.database, name) if table.partition_keys else []
        segments = _partition_segments(table, partitions)  # each location spells its partition's values
        files = self._files(table, partitions, every_partition=every_partition)
        if table.format.lower() == "parquet":
            files = _intact_parquet(table, files)
        variable = f"tickerlake_files_{name}"
        self.con.execute(f"set variable {variable} = ?", [files])
        if not files:
            select = self._empty_select(table)
        elif table.format.lower() == "csv":
            select = self._csv_select(table, variable, files, segments)
        elif table.format.lower() == "parquet":
            select = self._parquet_select(table, variable, segments)
        else:
            raise CatalogError(f"{table.qualified}: the local engine reads csv and parquet, not {table.format!r}")
        self.con.execute(f"create or replace view {self.database}.{_quote_ident(name)} as {select}")
        log.debug("exposed %s over %d file(s)", table.qualified, len(files))

    def _files(self, table: TableDef, partitions: list[Partition], *, every_partition: bool = True) -> list[str]:
        wanted = self._is_data_file(table)
        if not table.partition_keys:
            return [self.storage.uri(k) for k in self.storage.list_keys(table.location) if wanted(k)]
        locations = sorted({p.location for p in partitions})
        if len(locations) <= _LIST_WHOLE_TABLE_ABOVE or not all(loc.startswith(table.location) for loc in locations):
            keys = [k for loc in locations for k in self.storage.list_keys(loc) if wanted(k)]
            return [self.storage.uri(k) for k in keys]
        # Many partitions: one listing per value of the first partition key they span (a day's
        # run reads 5,000 raw partitions under one ingest_date), or of the whole table when
        # every partition is read, instead of one listing per partition.
        if every_partition:
            prefixes = [table.location]
        else:
            cut = len(table.location)
            firsts = {loc[cut:].split("/", 1)[0] for loc in locations}
            prefixes = [table.location] if "" in firsts else sorted(table.location + f + "/" for f in firsts)
        registered = set(locations)
        keys = []
        for prefix in prefixes:
            for key in self.storage.list_keys(prefix):
                if key[:key.rfind("/") + 1] in registered and wanted(key):
                    keys.append(key)
        return [self.storage.uri(k) for k in keys]

    @staticmethod
    def _is_data_file(table: TableDef):
        csv = table.format.lower() == "csv"

        def wanted(key: str) -> bool:
            base = key.rsplit("/", 1)[-1]
            if base.startswith((".", "_")):
                return False  # hidden and marker files, as Hive skips them
            return base.endswith(".csv") if csv else not base.endswith((".json", ".crc"))

        return wanted

    def _columns_sql(self, table: TableDef, segments: dict[str, str]) -> list[str]:
        return [f"{_read_as(_quote_ident(segments.get(c.name, c.name)), c.type)} as {_quote_ident(c.name)}"
                for c in [*table.columns, *table.partition_keys]]

    def _csv_select(self, table: TableDef, variable: str, files: list[str], segments: dict[str, str]) -> str:
        """Text files read the way Athena's LazySimpleSerDe reads them: a line per row, fields
        split at every comma (quotes are text, not quoting), '' for an empty field, \\N for
        null, null for a missing field, fields past the declared columns dropped, the first
        `skip.header.line.count` lines of each file skipped, blank lines no rows. (Athena keeps
        the CR of a CRLF line on the last field; here it goes with the line end. write_temp
        removes it either way.) A reader that honoured quotes would publish what Athena
        quarantines.

        Small files are read whole and split here, big ones by read_csv: read_csv spends some
        80 us setting each file up (0.4 s of a day's 5,000 one-line bodies), and the split
        keeps a pipeline from running in parallel (3x slower on a backfill's 20-year bodies).
        Both give the same rows (tests/glue_jobs/test_duckdb_engine.py reads a corpus both ways)."""
        try:
            skip = int(str(table.properties.get("skip.header.line.count") or 0))
        except ValueError:
            raise CatalogError(f"{table.qualified}: skip.header.line.count "
                               f"{table.properties.get('skip.header.line.count')!r} is not a number") from None
        small, big = [], []
        for path in files:
            try:
                (small if os.path.getsize(path) <= self.small_text_file_bytes else big).append(path)
            except OSError:
                big.append(path)  # gone or unreadable: let the reader say so, naming it
        selects = []
        if big:
            self.con.execute(f"set variable {variable}_big = ?", [big])
            selects.append(self._read_csv_select(table, f"{variable}_big", skip, segments))
        if small:
            self.con.execute(f"set variable {variable}_small = ?", [small])
            selects.append(self._split_text_select(table, f"{variable}_small", skip, segments))
        return " union all ".join(selects)

    def _read_csv_select(self, table: TableDef, variable: str, skip: int, segments: dict[str, str]) -> str:
        options = [
            f"columns = {_struct([(c.name, 'VARCHAR') for c in table.columns])}",
            f"skip = {skip}",
            "header = false",
            "delim = ','",
            "quote = ''",
            "escape = ''",
            f"nullstr = {_quote_str(HIVE_NULL)}",
            "auto_detect = false",
            "null_padding = true",
            "strict_mode = false",
            "filename = true",
            f"hive_partitioning = {str(bool(table.partition_keys)).lower()}",
        ]
        if table.partition_keys:
            options.append(f"hive_types = {_struct([(segments[c.name], 'VARCHAR') for c in table.partition_keys])}")
        columns = [f"{_text_as(_quote_ident(segments.get(c.name, c.name)), c.type)} as {_quote_ident(c.name)}"
                   for c in [*table.columns, *table.partition_keys]]
        return (f"select {', '.join(columns)}, filename as \"$path\" "
                f"from read_csv(getvariable('{variable}'), {', '.join(options)})")

    def _split_text_select(self, table: TableDef, variable: str, skip: int, segments: dict[str, str]) -> str:
        fields = [f"{_text_as(f'nullif(f[{n}], {_quote_str(HIVE_NULL)})', c.type)} as {_quote_ident(c.name)}"
                  for n, c in enumerate(table.columns, start=1)]
        # A partition's values come from its file's path, once per file and before the file's
        # lines are unnested: a query's filter on a partition key (write temp's ingest_date and
        # run id) then drops files, not lines. Taken per line, the same filter made DuckDB
        # copy every line's fields once more (2.7 s of CPU instead of 0.5 s for a day's 500,000).
        keys = [_quote_ident(c.name) for c in table.partition_keys]
        values = []
        for c in table.partition_keys:
            pattern = _quote_str(f".*/{re.escape(segments[c.name])}=([^/]*)/")  # greedy: the last such folder
            values.append(f"{_text_as(f'regexp_extract(filename, {pattern}, 1)', c.type)} as {_quote_ident(c.name)}")
        carried = "".join(f", {k}" for k in keys)
        files = f"select filename, content{''.join(f', {v}' for v in values)} from read_text(getvariable('{variable}'))"
        lines = (f"select filename{carried}, unnest(string_split(content, chr(10))[{skip + 1}:]) as line "
                 f"from ({files})")
        ended = f"select filename{carried}, regexp_replace(line, '\\r$', '') as line from ({lines})"
        return (f"select {', '.join([*fields, *keys])}, filename as \"$path\" from ("
                f"select filename{carried}, string_split(line, ',') as f from ({ended}) where line <> '')")

    def _parquet_select(self, table: TableDef, variable: str, segments: dict[str, str]) -> str:
        hive = bool(table.partition_keys)
        options = ["filename = true", "union_by_name = true", f"hive_partitioning = {str(hive).lower()}"]
        if hive:
            options.append(
                f"hive_types = {_struct([(segments[c.name], _duck_type(c.type)) for c in table.partition_keys])}"
            )
        source = f"read_parquet(getvariable('{variable}'), {', '.join(options)})"
        # A column the table declares that no file has (added after they were written, like a
        # ledger's column for a new stage) reads as null, as Athena reads Parquet by name.
        present = {d[0] for d in self.con.execute(f"select * from {source} limit 0").description}
        columns = [sql if segments.get(c.name, c.name) in present
                   else f"cast(null as {_duck_type(c.type)}) as {_quote_ident(c.name)}"
                   for c, sql in zip([*table.columns, *table.partition_keys], self._columns_sql(table, segments))]
        return f"select {', '.join(columns)} from {source}"

    def _empty_select(self, table: TableDef) -> str:
        cols = [f"cast(null as {_duck_type(c.type)}) as {_quote_ident(c.name)}" for c in table.columns]
        cols += [f"cast(null as {_duck_type(c.type)}) as {_quote_ident(c.name)}" for c in table.partition_keys]
        if table.format.lower() == "csv":
            cols.append('cast(null as VARCHAR) as "$path"')
        return f"select {', '.join(cols)} limit 0"




def _partition_segments(table: TableDef, partitions: list[Partition]) -> dict[str, str]:
    """Pure: partition key -> the name of the path segment that holds its value. As Glue does,
    a partition's values are its keys' by position: its location holds them as consecutive
    hive segments (`ingest_date=D/symbol=S/run_id=R/` for the raw table's ingest_date, symbol,
    ingest_run_id), whatever those segments are called. Every partition must spell them alike."""
    keys = [c.name for c in table.partition_keys]
    found: tuple[str, ...] | None = None
    for p in partitions:
        segs = [seg.partition("=")[::2] for seg in p.location.split("/") if "=" in seg]
        wanted = [str(p.values.get(k)) for k in keys]
        names = next((tuple(n for n, _ in segs[i:i + len(keys)]) for i in range(len(segs) - len(keys) + 1)
                      if [v for _, v in segs[i:i + len(keys)]] == wanted), None)
        if names is None or len(p.values) != len(keys):
            raise CatalogError(
                f"{table.qualified}: partition {p.values} sits at {p.location}, whose path does not "
                f"spell its values; the local engine reads partition values from hive-style paths"
            )
        if found is not None and names != found:
            raise CatalogError(
                f"{table.qualified}: partition {p.values} at {p.location} names its path segments "
                f"{'/'.join(names)}, others {'/'.join(found)}; the local engine needs one spelling per table"
            )
        found = names
    return dict(zip(keys, found or keys))


def _batches(reader: pa.RecordBatchReader, sql: str):
    """The reader's batches, a failure while streaming (a bad cast in row 3 million) as a QueryError."""
    import duckdb

    try:
        yield from reader
    except duckdb.Error as exc:
        raise _failure(sql, exc) from None
    finally:
        close = getattr(reader, "close", None)
        if close is not None:
            close()


_EXPLAIN = re.compile(r"\s*explain\s+(analyze\s+)?(?:verbose\s+)?(?:\((?:format|type)\b[^)]*\)\s*)?",
                      re.IGNORECASE)


def _intact_parquet(table: TableDef, files: list[str]) -> list[str]:
    """The files that end as a Parquet file does (its footer's magic bytes): one truncated file
    would fail every statement reading the table, so it is left out, with a warning naming it and
    `tickerlake doctor` (publish refuses to merge into a damaged partition; doctor repairs)."""
    out = []
    for path in files:
        try:
            with open(path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(size - 4, 0))
                tail = fh.read(4)
        except OSError as exc:
            log.warning("%s: cannot read %s (%s): left out of queries; run `tickerlake doctor`",
                        table.qualified, path, exc)
            continue
        if size < 12 or tail != b"PAR1":
            log.warning("%s: %s is not a whole Parquet file (%d bytes, truncated?): left out of queries; "
                        "run `tickerlake doctor --repair`", table.qualified, path, size)
            continue
        out.append(path)
    return out


def _read_as(column: str, hive_type: str) -> str:
    """A Parquet column as Athena reads it: its declared type, and a timestamp at millisecond
    precision, the stored microseconds rounded half up (Trino's Parquet reader for timestamp(3):
    Timestamps.round(micros, 3)). Done once here, where the table is read, not per reference."""
    duck = _duck_type(hive_type)
    if duck == "TIMESTAMP":
        return f"epoch_ms(cast(floor((epoch_us(cast({column} as TIMESTAMP)) + 500) / 1000) as BIGINT))"
    return f"cast({column} as {duck})"


def _text_as(expression: str, hive_type: str) -> str:
    """A text field as its column's type: as LazySimpleSerDe, a field that does not parse is null."""
    duck = _duck_type(hive_type)
    return expression if duck == "VARCHAR" else f"try_cast(nullif({expression}, '') as {duck})"


def _repetitive_columns(table: pa.Table) -> list[str]:
    """Columns worth dictionary-encoding: few distinct values among the rows at hand. Trying
    a dictionary on a column of unique values (raw lines, prices) costs a third of a write."""
    import pyarrow.compute as pc

    sample = table.slice(0, 50_000)
    return [name for name in sample.column_names
            if sample.num_rows == 0 or pc.count_distinct(sample.column(name)).as_py() <= sample.num_rows // 10]

def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()

@lru_cache(maxsize=1)
def _analysis_views() -> dict[str, str]:
    """sql/views/<name>.sql, by view name."""
    return {Path(n).stem: sql_files.load(n) for n in sql_files.names("views")}
