"""Athena's SQL, answered locally as Athena engine v3 (Trino) answers it, or refused.

A statement goes through four steps, each a module here, all pure (SQL text and a schema
in, SQL text out; no DuckDB, no files):

1. `strict`: parse as Trino and refuse what Athena refuses (with Athena's own words where it
   has them), and refuse valid Athena SQL the local engine cannot answer exactly yet
   (`surface` lists what it can).
2. `translate`: resolve every column against the catalog's schema and give every expression
   its Trino type (sqlglot's optimizer does the resolving and a first typing).
3. `rules/`: rewrite the typed tree, bottom-up, by Trino's rules: one module per area
   (arithmetic, dates, math, strings, aggregates, collections), each registering the node
   types and function names it owns.
4. `result`: name and type the result's columns as Athena does (`_col0`, bigint, date,
   timestamp(3)) and emit DuckDB SQL.
"""
from glue_jobs.adapters.local.athena_sql.errors import RUNTIME_ERROR_MARK, AthenaRejects, NotEmulated  # noqa: E402
from glue_jobs.adapters.local.athena_sql.parameters import bind, parameterize  # noqa: E402
from glue_jobs.adapters.local.athena_sql.translate import (  # noqa: E402
    PATH_COLUMN,
    OutputColumn,
    Translation,
    parse,
    translate,
)
from glue_jobs.adapters.local.athena_sql.types import hive_to_trino  # noqa: E402

__all__ = ["bind", "parameterize", "RUNTIME_ERROR_MARK", "AthenaRejects", "NotEmulated", "PATH_COLUMN", "OutputColumn",
           "Translation", "parse", "translate", "hive_to_trino"]
